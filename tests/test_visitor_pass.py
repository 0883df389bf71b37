"""Visitor passes: tokens checked offline with reasons, uses, revocation, services with household
scoping, persistence across restarts (SQLite file and PostgreSQL), QR code and link."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import stat
import textwrap
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import jwt
import pytest
import zxingcpp
from PIL import Image

from shouwang.core.clock import ManualClock
from shouwang.core.events import Context
from shouwang.core.hub import Hub
from shouwang.core.places import Place
from shouwang.core.services import ServiceValidationError
from shouwang.core.storage import Storage
from shouwang.integrations.registry import open_registry
from shouwang.integrations.registry.transfer import import_file
from shouwang.integrations.visitor_pass import PassBook, model, qr
from shouwang.integrations.visitor_pass.book import NewPass
from shouwang.integrations.visitor_pass.services import NotAllowed
from shouwang.integrations.visitor_pass.tokens import (
    KEY_FILE,
    Claims,
    Signer,
    TokenError,
    load_key,
)
from shouwang.integrations.visitor_pass.window import WindowError, resolve_window

from .automation_helpers import capture, settle
from .community_data import DATA, needs_data

SHANGHAI = ZoneInfo("Asia/Shanghai")
CONFIG = "shouwang:\n  time_zone: Asia/Shanghai\nvisitor_pass:\n"
# the conftest clock starts at 2026-11-28 22:00 UTC = 2026-11-29 06:00 in Shanghai
TODAY = date(2026, 11, 29)


def write_config(config_dir: Path, configuration: str) -> None:
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "configuration.yaml").write_text(textwrap.dedent(configuration), "utf-8")


async def start(config_dir: Path, clock: ManualClock, configuration: str = CONFIG) -> Hub:
    write_config(config_dir, configuration)
    hub = Hub(config_dir, clock=clock)
    await hub.start()
    assert hub.integrations.failed == {}
    return hub


def book_of(hub: Hub) -> PassBook:
    book = hub.integrations.runtime("visitor_pass")
    assert isinstance(book, PassBook)
    return book


def add_places(hub: Hub) -> None:
    for place in (
        Place("C", "示例花园", "community"),
        Place("P-GATE-N", "北门", "gate", "C"),
        Place("P-GATE-S", "南门", "gate", "C"),
        Place("B01", "1号楼", "building", "C"),
        Place("B01-U1", "1号楼1单元", "unit", "B01"),
        Place("B02", "2号楼", "building", "C"),
    ):
        hub.places.add(place)
    hub.places.bind("lock.b01_u1_door", "B01-U1")
    hub.places.bind("lock.b02_door", "B02")


@pytest.fixture
async def hub(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Hub]:
    hub = await start(tmp_path / "config", clock)
    add_places(hub)
    yield hub
    await hub.stop(timeout=5)


async def create(hub: Hub, context: Context | None = None, **data: Any) -> dict[str, Any]:
    data = {"visitor_name": "王小明", "host_household": "B01-U1-0101", **data}
    data.setdefault("doors", ["P-GATE-N"])
    response = await hub.services.call(
        "visitor_pass", "create", data, context=context, return_response=True
    )
    assert response is not None
    return response


async def call(hub: Hub, service: str, context: Context | None = None, **data: Any) -> Any:
    return await hub.services.call(
        "visitor_pass", service, data, context=context, return_response=True
    )


def payload_of(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


# --- creating a pass ------------------------------------------------------------------------


async def test_create_returns_token_link_qr_and_masks_the_phone(hub: Hub) -> None:
    created_events = capture(hub, "visitor_pass_created")
    made = await create(hub, phone="199 5469 9758", plate="沪a·d1234", places=["B01-U1"])
    assert made["visitor_name"] == "王小明"
    assert made["phone"] == "199****9758"
    assert made["plate"] == "沪AD1234"
    assert made["max_uses"] == 4 and made["uses"] == 0 and made["status"] == "valid"
    assert made["doors"] == ["P-GATE-N"] and made["places"] == ["B01-U1"]
    # the day pass of DOMAIN.md: local 00:00 to the next local midnight
    assert made["valid_from"] == "2026-11-29T00:00:00+08:00"
    assert made["valid_until"] == "2026-11-30T00:00:00+08:00"
    token = made["token"]
    assert made["link"] == f"/pass/{token}"
    assert made["qr_svg"].startswith("data:image/svg+xml")
    claims = payload_of(token)
    assert claims == {
        "i": made["pass_id"],
        "h": "B01-U1-0101",
        "d": ["P-GATE-N"],
        "r": ["B01-U1"],
        "f": int(datetime(2026, 11, 29, tzinfo=SHANGHAI).timestamp()),
        "u": int(datetime(2026, 11, 30, tzinfo=SHANGHAI).timestamp()),
        "m": 4,
        "p": "沪AD1234",
    }
    assert "王小明" not in json.dumps(claims, ensure_ascii=False)  # no personal data in a QR
    assert len(token) < 256  # compact: a version 11 QR code at most
    assert json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "==")) == {"alg": "HS256"}
    await settle(hub)
    assert [e.data for e in created_events] == [
        {"pass_id": made["pass_id"], "host_household": "B01-U1-0101"}
    ]
    book = book_of(hub)
    record = book.get(made["pass_id"])
    assert record is not None and record.phone_enc is not None
    assert book.protector.decrypt(record.phone_enc) == "19954699758"
    assert book.token(record) == token  # deterministic: the list shows the same token


async def test_create_without_service_response_still_stores(hub: Hub) -> None:
    await hub.services.call(
        "visitor_pass", "create",
        {"visitor_name": "快递", "host_household": "B01-U1-0101", "doors": "P-GATE-N"},
        blocking=True,
    )  # fmt: skip
    (only,) = book_of(hub).passes()
    assert only.visitor_name == "快递" and only.doors == ("P-GATE-N",)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"phone": "12345"}, "phone: expected a mainland mobile number"),
        ({"plate": "ABC123"}, "plate: not a valid Chinese plate"),
        ({"doors": [], "places": []}, "doors: name at least one door"),
        ({"places": ["NOWHERE"]}, "places: unknown place 'NOWHERE'"),
        ({"max_uses": 0}, "max_uses: value must be at least 1"),
        ({"visitor_name": "  "}, "visitor_name: length of value must be at least 1"),
        ({"valid_from": "tomorrow"}, "valid_from: expected an ISO date and time"),
        ({"day": "2026-11-29", "duration": "00:30:00"}, "day: give either a day or"),
        ({"valid_until": "2026-11-29T05:00:00"}, "valid_until: must be after valid_from"),
        (
            {"valid_from": "2026-11-28T01:00", "valid_until": "2026-11-28T02:00"},
            "already in the past",
        ),
        ({"day": "2026-11-29", "unknown": 1}, "unknown: extra keys not allowed"),
        ({"duration": {"days": 40}}, "valid_until: a pass may last at most 31 days"),
    ],
)
async def test_create_rejects_bad_input_naming_the_field(
    hub: Hub, data: dict[str, Any], message: str
) -> None:
    with pytest.raises(ServiceValidationError, match=message):
        await create(hub, **data)
    assert book_of(hub).passes() == []


async def test_create_takes_native_dates_and_times(hub: Hub, clock: ManualClock) -> None:
    # what an automation's YAML or the API's JSON layer may hand over as objects
    start = datetime(2026, 11, 29, 9, 0, tzinfo=SHANGHAI)
    made = await create(hub, valid_from=start, duration=timedelta(minutes=45))
    assert made["valid_from"] == start.isoformat()
    assert made["valid_until"] == (start + timedelta(minutes=45)).isoformat()
    day = await create(hub, day=date(2026, 11, 30))
    assert day["valid_from"] == "2026-11-30T00:00:00+08:00"
    for data, message in [
        ({"duration": "soon"}, "duration: expected a duration"),
        ({"day": "30/11/2026"}, "day: expected an ISO date"),
        ({"doors": ["P-GATE-N", 7]}, "doors: expected a string or a list"),
    ]:
        with pytest.raises(ServiceValidationError, match=message):
            await create(hub, **data)


async def test_setup_needs_a_config_directory(clock: ManualClock) -> None:
    hub = Hub(clock=clock)
    await hub.start()
    try:
        await hub.integrations.setup_many({"visitor_pass": {}})
        assert "visitor_pass" in hub.integrations.failed
    finally:
        await hub.stop(timeout=5)


async def test_create_ad_hoc_and_given_windows(hub: Hub, clock: ManualClock) -> None:
    now = clock.time()
    ad_hoc = await create(hub, duration={"minutes": 45})
    claims = payload_of(ad_hoc["token"])
    assert (claims["f"], claims["u"]) == (int(now), int(now) + 45 * 60)
    later = await create(hub, day="2026-12-01", max_uses=1)
    claims = payload_of(later["token"])
    assert claims["f"] == int(datetime(2026, 12, 1, tzinfo=SHANGHAI).timestamp())
    assert claims["u"] - claims["f"] == 86400 and claims["m"] == 1
    assert later["status"] == "pending"
    naive = await create(hub, valid_from="2026-11-29T14:00", valid_until="2026-11-29T16:30")
    assert naive["valid_from"] == "2026-11-29T14:00:00+08:00"  # naive means local time
    assert naive["valid_until"] == "2026-11-29T16:30:00+08:00"


def test_resolve_window_rules() -> None:
    tz = SHANGHAI
    now = datetime(2026, 11, 29, 10, 15, 30, tzinfo=tz)
    longest = timedelta(days=31)

    def window(**kwargs: Any) -> tuple[int, int]:
        return resolve_window(now, tz, max_length=longest, **kwargs)

    midnight = int(datetime(2026, 11, 29, tzinfo=tz).timestamp())
    assert window() == (midnight, midnight + 86400)
    assert window(day=date(2026, 11, 30)) == (midnight + 86400, midnight + 2 * 86400)
    start = datetime(2026, 11, 29, 20, 0, tzinfo=tz)
    assert window(valid_from=start) == (int(start.timestamp()), midnight + 86400)
    assert window(duration=timedelta(minutes=30)) == (
        int(now.timestamp()),
        int((now + timedelta(minutes=30)).timestamp()),
    )
    end = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    assert window(valid_until=end) == (int(now.timestamp()), int(end.timestamp()))
    for bad, message in [
        ({"valid_until": end, "duration": timedelta(minutes=5)}, "duration: give either"),
        ({"duration": timedelta(0)}, "duration: must be positive"),
        ({"day": date(2026, 11, 28)}, "already in the past"),
        ({"duration": timedelta(days=32)}, "at most 31 days"),
    ]:
        with pytest.raises(WindowError, match=message):
            window(**bad)


# --- the gate's decision ----------------------------------------------------------------------


async def test_valid_pass_opens_its_doors_and_counts_uses(hub: Hub, clock: ManualClock) -> None:
    book = book_of(hub)
    used = capture(hub, "visitor_pass_used")
    denied = capture(hub, "visitor_pass_denied")
    made = await create(hub, places=["B01-U1"], max_uses=3)
    token, pass_id = made["token"], made["pass_id"]
    now = clock.now()
    for door in ("P-GATE-N", "B01-U1", "lock.b01_u1_door"):
        check = book.validate(token, door, now)
        assert (check.ok, check.reason) == (True, "ok"), door
        assert (check.pass_id, check.host_household, check.visitor_name) == (
            pass_id, "B01-U1-0101", "王小明",
        )  # fmt: skip
    assert book.get(pass_id).uses == 0  # type: ignore[union-attr]  # validating counts nothing
    book.consume(pass_id, "P-GATE-N", now)
    book.consume(pass_id, "lock.b01_u1_door", now)
    await settle(hub)
    assert [e.data["door_id"] for e in used] == ["P-GATE-N", "lock.b01_u1_door"]
    assert used[-1].data == {
        "pass_id": pass_id,
        "door_id": "lock.b01_u1_door",
        "host_household": "B01-U1-0101",
        "visitor_name": "王小明",
        "plate": None,
        "uses": 2,
        "max_uses": 3,
        "remaining": 1,
    }
    assert "phone" not in str([e.data for e in used])
    assert denied == []
    await book.flush()
    assert model.uses_of(book.storage, pass_id) == [
        ("P-GATE-N", clock.time()),
        ("lock.b01_u1_door", clock.time()),
    ]


async def test_expired_and_not_yet_valid_follow_the_clock(hub: Hub, clock: ManualClock) -> None:
    book = book_of(hub)
    today = await create(hub)
    tomorrow = await create(hub, day="2026-11-30")
    assert book.validate(today["token"], "P-GATE-N", clock.now()).ok
    check = book.validate(tomorrow["token"], "P-GATE-N", clock.now())
    assert (check.ok, check.reason) == (False, "not_yet_valid")
    # local midnight: today's pass ends, tomorrow's starts (the window end is exclusive)
    await clock.advance_to(datetime(2026, 11, 30, tzinfo=SHANGHAI))
    assert book.validate(today["token"], "P-GATE-N", clock.now()).reason == "expired"
    assert book.validate(tomorrow["token"], "P-GATE-N", clock.now()).ok
    await clock.advance_to(datetime(2026, 11, 30, 23, 59, 59, tzinfo=SHANGHAI))
    assert book.validate(tomorrow["token"], "P-GATE-N", clock.now()).ok
    await clock.advance(1)
    assert book.validate(tomorrow["token"], "P-GATE-N", clock.now()).reason == "expired"
    # the clock given to validate is what counts, not the hub's
    earlier = datetime(2026, 11, 30, 12, 0, tzinfo=SHANGHAI)
    assert book.validate(tomorrow["token"], "P-GATE-N", earlier).ok
    with pytest.raises(ValueError, match="timezone-aware"):
        book.validate(tomorrow["token"], "P-GATE-N", datetime(2026, 11, 30, 12, 0))


async def test_ad_hoc_pass_lasts_its_minutes(hub: Hub, clock: ManualClock) -> None:
    book = book_of(hub)
    made = await create(hub, duration="00:30:00")
    await clock.advance(29 * 60)
    assert book.validate(made["token"], "P-GATE-N", clock.now()).ok
    await clock.advance(60)
    assert book.validate(made["token"], "P-GATE-N", clock.now()).reason == "expired"


async def test_forged_tokens_are_bad_signatures(hub: Hub, clock: ManualClock) -> None:
    book = book_of(hub)
    denied = capture(hub, "visitor_pass_denied")
    made = await create(hub)
    header, payload, signature = made["token"].split(".")
    now = clock.now()

    # the payload changed (another door, more uses) but the signature kept
    claims = payload_of(made["token"]) | {"d": ["P-GATE-S"], "m": 99}
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    tampered = f"{header}.{forged_payload}.{signature}"
    # a flipped signature character
    flipped = f"{header}.{payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    # the same claims signed with another key
    other = Signer(bytes(range(32))).sign(book.claims(book.get(made["pass_id"])))  # type: ignore[arg-type]
    # alg "none" and another algorithm must not pass either
    unsigned = jwt.encode(claims, None, algorithm="none")
    hs512 = jwt.encode(claims, load_key(hub.config_dir) * 2, algorithm="HS512")  # type: ignore[arg-type]
    # the last of 43 signature characters carries 2 spare bits (256 = 42 * 6 + 4): setting one
    # decodes to the same MAC, but is not the token that was issued
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    spare_bit = alphabet[alphabet.index(signature[-1]) + 1]
    assert base64.urlsafe_b64decode(signature + "=") == base64.urlsafe_b64decode(
        signature[:-1] + spare_bit + "="
    )
    respelled_mac = f"{header}.{payload}.{signature[:-1]}{spare_bit}"
    assert book.validate(respelled_mac, "P-GATE-S", now).reason == "bad_signature"
    # one token, one spelling: the signature in standard base64 instead of base64url
    respelled = f"{header}.{payload}.{signature.replace('-', '+').replace('_', '/')}"
    if respelled == made["token"]:
        respelled = made["token"] + "="
    for token in (tampered, flipped, other, unsigned, hs512):
        check = book.validate(token, "P-GATE-S", now)
        assert (check.ok, check.reason, check.pass_id) == (False, "bad_signature", None), token
    assert book.validate(respelled, "P-GATE-N", now).reason == "malformed"
    # the genuine token is a standard JWT: any JWT library verifies it with the key
    key = load_key(hub.config_dir)  # type: ignore[arg-type]
    assert jwt.decode(made["token"], key, algorithms=["HS256"]) == payload_of(made["token"])
    assert book.validate(made["token"], "P-GATE-N", now).ok
    await settle(hub)
    assert [e.data["reason"] for e in denied] == ["bad_signature"] * 6 + ["malformed"]
    assert denied[0].data == {
        "reason": "bad_signature",
        "door_id": "P-GATE-S",
        "pass_id": None,
        "host_household": None,
        "visitor_name": None,
    }


async def test_malformed_and_unknown_tokens(hub: Hub, clock: ManualClock) -> None:
    book = book_of(hub)
    await create(hub)
    now = clock.now()
    key = load_key(hub.config_dir)  # type: ignore[arg-type]
    good = {"i": "x", "h": "B01-U1-0101", "d": ["P-GATE-N"], "f": 0, "u": 2**40, "m": 1}
    signed_garbage = [
        jwt.encode({**good, "f": "soon"}, key, algorithm="HS256"),
        jwt.encode({**good, "d": "P-GATE-N"}, key, algorithm="HS256"),
        jwt.encode({k: v for k, v in good.items() if k != "i"}, key, algorithm="HS256"),
        jwt.encode({**good, "u": -1}, key, algorithm="HS256"),
        jwt.encode({**good, "m": 0}, key, algorithm="HS256"),
        jwt.encode({**good, "m": True}, key, algorithm="HS256"),
    ]
    for token in ["", "garbage", "a.b.c", "a.b", "💥.💥.💥", *signed_garbage]:
        check = book.validate(token, "P-GATE-N", now)
        assert (check.ok, check.reason) == (False, "malformed"), token
    # well signed, well formed, but not a pass this hub issued
    unknown = jwt.encode(good, key, algorithm="HS256")
    check = book.validate(unknown, "P-GATE-N", now)
    assert (check.ok, check.reason, check.pass_id) == (False, "unknown_pass", "x")


async def test_replay_beyond_max_uses_is_used_up(hub: Hub, clock: ManualClock) -> None:
    used = capture(hub, "visitor_pass_used")
    made = await create(hub, max_uses=2)
    results = []
    for _ in range(4):
        results.append(await call(hub, "check", token=made["token"], door="P-GATE-N"))
    assert [(r["ok"], r["reason"]) for r in results] == [
        (True, "ok"), (True, "ok"), (False, "used_up"), (False, "used_up"),
    ]  # fmt: skip
    await settle(hub)
    assert len(used) == 2
    book = book_of(hub)
    assert book.get(made["pass_id"]).uses == 2  # type: ignore[union-attr]  # denials don't count
    (listed,) = (await call(hub, "list", status="used"))["passes"]
    assert listed["pass_id"] == made["pass_id"] and listed["uses"] == 2


async def test_wrong_door_is_denied_and_not_counted(hub: Hub, clock: ManualClock) -> None:
    book = book_of(hub)
    denied = capture(hub, "visitor_pass_denied")
    made = await create(hub, places=["B01"], max_uses=1)
    now = clock.now()
    for door in ("P-GATE-S", "B02", "lock.b02_door", "lock.unknown", "C"):
        check = book.validate(made["token"], door, now)
        assert (check.ok, check.reason) == (False, "wrong_door"), door
        assert check.pass_id == made["pass_id"] and check.visitor_name == "王小明"
    assert book.validate(made["token"], "lock.b01_u1_door", now).ok  # under B01
    response = await call(hub, "check", token=made["token"], door="B02")
    assert response == {
        "ok": False,
        "reason": "wrong_door",
        "pass_id": made["pass_id"],
        "host_household": "B01-U1-0101",
        "visitor_name": "王小明",
    }
    assert book.get(made["pass_id"]).uses == 0  # type: ignore[union-attr]
    await settle(hub)
    assert len(denied) == 6
    # a dry run announces nothing
    assert book.validate(made["token"], "B02", now, announce=False).reason == "wrong_door"
    await settle(hub)
    assert len(denied) == 6


async def test_door_groups_come_from_access_control(hub: Hub, clock: ManualClock) -> None:
    book = book_of(hub)
    made = await create(hub, doors=[], door_groups=["visitor_route_b01"])
    now = clock.now()
    assert book.validate(made["token"], "lock.b01_u1_door", now).reason == "wrong_door"
    groups = {"lock.b01_u1_door": ["visitor_route_b01"], "lock.b02_door": ["staff"]}
    book.set_door_groups(lambda door: groups.get(door, []))
    assert book.validate(made["token"], "lock.b01_u1_door", now).ok
    assert book.validate(made["token"], "lock.b02_door", now).reason == "wrong_door"


async def test_revoked_pass_is_denied(hub: Hub, clock: ManualClock) -> None:
    book = book_of(hub)
    revoked_events = capture(hub, "visitor_pass_revoked")
    made = await create(hub)
    keep = await create(hub, visitor_name="李四")
    response = await call(hub, "revoke", pass_id=made["pass_id"], revoked_by="guard-7")
    assert response["status"] == "revoked" and response["revoked_by"] == "guard-7"
    assert response["revoked_at"] == clock.now().astimezone(SHANGHAI).isoformat()
    check = book.validate(made["token"], "P-GATE-N", clock.now())
    assert (check.ok, check.reason) == (False, "revoked")
    assert book.validate(keep["token"], "P-GATE-N", clock.now()).ok
    assert book.revocation_list() == {made["pass_id"]}
    again = await call(hub, "revoke", pass_id=made["pass_id"])  # no change
    assert again["revoked_by"] == "guard-7"
    await settle(hub)
    assert len(revoked_events) == 1
    with pytest.raises(ServiceValidationError, match="pass_id: no visitor pass 'nope'"):
        await call(hub, "revoke", pass_id="nope")
    with pytest.raises(KeyError):
        book.consume("nope", "P-GATE-N", clock.now())


# --- listing and household scoping --------------------------------------------------------------


async def test_list_filters_by_status_and_household(hub: Hub, clock: ManualClock) -> None:
    valid = await create(hub, visitor_name="甲")
    used = await create(hub, visitor_name="乙", max_uses=1)
    expired = await create(hub, visitor_name="丙", duration={"minutes": 30})
    revoked = await create(hub, visitor_name="丁")
    pending = await create(hub, visitor_name="戊", day="2026-12-02")
    other = await create(hub, visitor_name="己", host_household="B02-U1-0101")
    assert (await call(hub, "check", token=used["token"], door="P-GATE-N"))["ok"]
    await call(hub, "revoke", pass_id=revoked["pass_id"])
    await clock.advance(31 * 60)

    async def names(**data: Any) -> list[str]:
        return [p["visitor_name"] for p in (await call(hub, "list", **data))["passes"]]

    assert sorted(await names()) == sorted(["甲", "乙", "丙", "丁", "戊", "己"])
    assert sorted(await names(status="valid")) == ["己", "甲"]
    assert await names(status="used") == ["乙"]
    assert await names(status="expired") == ["丙"]
    assert await names(status="revoked") == ["丁"]
    assert await names(status="pending") == ["戊"]
    assert sorted(await names(status=["expired", "revoked"])) == ["丁", "丙"]
    assert await names(household="B02-U1-0101") == ["己"]
    assert await names(household="B02-U1-0101", status="expired") == []
    listed = (await call(hub, "list", status="valid", household="B01-U1-0101"))["passes"]
    assert [p["pass_id"] for p in listed] == [valid["pass_id"]]
    assert listed[0]["token"] == valid["token"] and listed[0]["link"] == valid["link"]
    assert listed[0]["phone"] is None and "qr_svg" not in listed[0]
    assert {p["status"] for p in (await call(hub, "list"))["passes"]} == {
        "valid", "used", "expired", "revoked", "pending",
    }  # fmt: skip
    with pytest.raises(ServiceValidationError, match="status"):
        await call(hub, "list", status="lost")
    with pytest.raises(ServiceValidationError, match="only works with return_response"):
        await hub.services.call("visitor_pass", "list", {})
    assert expired["status"] == "valid" and pending["status"] == "pending"
    assert other["host_household"] == "B02-U1-0101"


async def test_residents_act_only_for_their_own_household(hub: Hub) -> None:
    mine = await create(hub, caller_household="B01-U1-0101")
    assert mine["created_by"] == "household:B01-U1-0101"
    theirs = await create(hub, host_household="B02-U1-0101", created_by="staff-1")
    assert theirs["created_by"] == "staff-1"
    with pytest.raises(NotAllowed, match="only create passes for their own household"):
        await create(hub, host_household="B02-U1-0101", caller_household="B01-U1-0101")
    listed = await call(hub, "list", caller_household="B01-U1-0101")
    assert [p["pass_id"] for p in listed["passes"]] == [mine["pass_id"]]
    with pytest.raises(NotAllowed, match="only list their own household"):
        await call(hub, "list", caller_household="B01-U1-0101", household="B02-U1-0101")
    with pytest.raises(NotAllowed, match="only revoke their own household"):
        await call(hub, "revoke", pass_id=theirs["pass_id"], caller_household="B01-U1-0101")
    done = await call(hub, "revoke", pass_id=mine["pass_id"], caller_household="B01-U1-0101")
    assert done["status"] == "revoked" and done["revoked_by"] == "household:B01-U1-0101"
    assert len(book_of(hub).passes()) == 2  # the refused create stored nothing


async def test_scope_from_the_calling_user(hub: Hub) -> None:
    book = book_of(hub)
    users = {"resident-1": "B01-U1-0101", "guard-1": None}
    book.user_household = users.__getitem__
    resident, guard = Context(user_id="resident-1"), Context(user_id="guard-1")
    made = await create(hub, context=resident)
    assert made["created_by"] == "resident-1"
    with pytest.raises(NotAllowed):
        await create(hub, context=resident, host_household="B02-U1-0101")
    with pytest.raises(NotAllowed, match="does not match the calling user's household"):
        await create(hub, context=resident, caller_household="B02-U1-0101")
    staff_made = await create(hub, context=guard, host_household="B02-U1-0101")
    assert staff_made["created_by"] == "guard-1"
    seen = await call(hub, "list", context=resident)
    assert [p["pass_id"] for p in seen["passes"]] == [made["pass_id"]]
    assert len((await call(hub, "list", context=guard))["passes"]) == 2
    with pytest.raises(NotAllowed):
        await call(hub, "revoke", context=resident, pass_id=staff_made["pass_id"])
    revoked = await call(hub, "revoke", context=guard, pass_id=made["pass_id"])
    assert revoked["revoked_by"] == "guard-1"


@needs_data
async def test_host_household_and_route_checked_against_the_registry(
    tmp_path: Path, clock: ManualClock
) -> None:
    config = tmp_path / "config"
    storage, protector = open_registry(config)
    for kind in ("places", "households"):
        assert import_file(storage, protector, DATA / f"{kind}.csv", kind).applied
    storage.close()
    hub = await start(config, clock, CONFIG + "registry:\n")
    try:
        book = book_of(hub)
        made = await create(hub, doors=[], places=["P-GATE-N", "B01-U1"])
        assert book.validate(made["token"], "P-GATE-N", clock.now()).ok
        assert book.validate(made["token"], "B01-U1-0101", clock.now()).ok  # under B01-U1
        assert book.validate(made["token"], "P-GATE-S", clock.now()).reason == "wrong_door"
        with pytest.raises(ServiceValidationError, match="unknown household 'B99-U9-9999'"):
            await create(hub, host_household="B99-U9-9999")
    finally:
        await hub.stop(timeout=5)


# --- persistence ---------------------------------------------------------------------------------


async def test_restart_keeps_passes_uses_and_revocations(
    tmp_path: Path, clock: ManualClock
) -> None:
    config = tmp_path / "config"
    hub = await start(config, clock)
    made = await create(hub, phone="19954699758", max_uses=3, plate="沪AD1234")
    revoked = await create(hub, visitor_name="李四")
    book = book_of(hub)
    for _ in range(2):
        book.consume(made["pass_id"], "P-GATE-N", clock.now())
    await call(hub, "revoke", pass_id=revoked["pass_id"])
    await hub.stop(timeout=5)  # waits for the background writes

    key_file = config / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    raw = (config / "shouwang.db").read_bytes() + b"".join(
        p.read_bytes() for p in config.glob("shouwang.db-*")
    )
    assert b"19954699758" not in raw and b"199****9758" in raw

    hub = await start(config, clock)
    try:
        book = book_of(hub)
        again = book.get(made["pass_id"])
        assert again is not None and again.uses == 2 and again.plate == "沪AD1234"
        assert book.protector.decrypt(again.phone_enc or "") == "19954699758"
        assert book.token(again) == made["token"]  # same key: old QR codes still work
        assert book.validate(made["token"], "P-GATE-N", clock.now()).ok
        book.consume(made["pass_id"], "P-GATE-N", clock.now())
        assert book.validate(made["token"], "P-GATE-N", clock.now()).reason == "used_up"
        assert book.validate(revoked["token"], "P-GATE-N", clock.now()).reason == "revoked"
        assert book.revocation_list() == {revoked["pass_id"]}
        await book.flush()
        assert [door for door, _ in model.uses_of(book.storage, made["pass_id"])] == [
            "P-GATE-N"
        ] * 3
    finally:
        await hub.stop(timeout=5)


async def test_passes_are_deleted_after_the_retention_period(
    tmp_path: Path, clock: ManualClock
) -> None:
    config = tmp_path / "config"
    hub = await start(config, clock)
    old = await create(hub, duration={"minutes": 30})
    later = await create(hub, day="2027-03-15")
    book_of(hub).consume(old["pass_id"], "P-GATE-N", clock.now())
    await hub.stop(timeout=5)
    await clock.advance(timedelta(days=89).total_seconds())
    hub = await start(config, clock)
    assert book_of(hub).get(old["pass_id"]) is not None  # 89 days: still kept
    await hub.stop(timeout=5)
    await clock.advance(timedelta(days=1, minutes=31).total_seconds())  # ended 90 days ago
    hub = await start(config, clock)
    try:
        book = book_of(hub)
        assert book.get(old["pass_id"]) is None
        assert model.uses_of(book.storage, old["pass_id"]) == []
        assert book.get(later["pass_id"]) is not None
    finally:
        await hub.stop(timeout=5)


def test_key_file_is_made_once_and_checked(tmp_path: Path) -> None:
    key = load_key(tmp_path)
    assert len(key) == 32 and load_key(tmp_path) == key
    assert stat.S_IMODE((tmp_path / KEY_FILE).stat().st_mode) == 0o600
    (tmp_path / KEY_FILE).write_text("not hex\n")
    with pytest.raises(ValueError, match="not a hex key"):
        load_key(tmp_path)
    (tmp_path / KEY_FILE).write_text("abcd\n")
    with pytest.raises(ValueError, match="shorter than 32 bytes"):
        load_key(tmp_path)


async def test_bad_config_is_reported_and_the_hub_runs(tmp_path: Path, clock: ManualClock) -> None:
    (tmp_path / "configuration.yaml").write_text("visitor_pass:\n  default_max_uses: 0\n")
    hub = Hub(tmp_path, clock=clock)
    await hub.start()
    try:
        assert "visitor_pass" in hub.integrations.failed
        assert any("default_max_uses" in str(e) for e in hub.loaded_config.errors)  # type: ignore[union-attr]
        assert not hub.services.has("visitor_pass", "create")
    finally:
        await hub.stop(timeout=5)


async def test_passes_on_postgresql(postgres_url: str, tmp_path: Path, clock: ManualClock) -> None:
    configuration = CONFIG + f"  db_url: {postgres_url}\n"
    hub = await start(tmp_path, clock, configuration)
    made = await create(hub, phone="19954699758", max_uses=2)
    gone = await create(hub)
    book = book_of(hub)
    assert book.storage.dialect == "postgresql"
    assert (await call(hub, "check", token=made["token"], door="P-GATE-N"))["ok"]
    await call(hub, "revoke", pass_id=gone["pass_id"])
    await hub.stop(timeout=5)
    assert not (tmp_path / "shouwang.db").exists()

    storage = Storage(postgres_url)
    try:
        records = {r.pass_id: r for r in model.load_all(storage)}
        assert records[made["pass_id"]].uses == 1
        assert records[made["pass_id"]].doors == ("P-GATE-N",)
        assert records[gone["pass_id"]].revoked_at == clock.time()
        assert model.uses_of(storage, made["pass_id"]) == [("P-GATE-N", clock.time())]
    finally:
        storage.close()
    hub = await start(tmp_path, clock, configuration)
    try:
        book = book_of(hub)
        assert book.validate(made["token"], "P-GATE-N", clock.now()).ok
        assert book.validate(gone["token"], "P-GATE-N", clock.now()).reason == "revoked"
    finally:
        await hub.stop(timeout=5)


# --- QR code and link ---------------------------------------------------------------------------


async def test_qr_code_decodes_back_to_the_token(hub: Hub) -> None:
    made = await create(hub, plate="粤B12345D", places=["B01-U1"])
    token = made["token"]
    (decoded,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr.png(token))))
    assert decoded.format == zxingcpp.BarcodeFormat.QRCode
    assert decoded.text == token
    svg = qr.svg(token)
    root = ElementTree.fromstring(svg)
    assert root.tag.endswith("svg") and root.find("{http://www.w3.org/2000/svg}path") is not None
    prefix = "data:image/svg+xml;charset=utf-8,"
    assert made["qr_svg"].startswith(prefix)
    from_url = ElementTree.fromstring(unquote(made["qr_svg"][len(prefix) :]))
    assert from_url.tag == root.tag
    assert qr.link(token) == made["link"] == "/pass/" + token
    # the token read back from the QR code opens the gate
    assert book_of(hub).validate(decoded.text, "P-GATE-N", hub.clock.now()).ok


def test_signed_but_broken_tokens_are_malformed() -> None:
    key = bytes(32)
    signer = Signer(key)

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    def signed(header: bytes, payload: bytes) -> str:
        head = f"{b64(header)}.{b64(payload)}"
        mac = hmac.new(key, head.encode(), hashlib.sha256).digest()
        return f"{head}.{b64(mac)}"

    cases = {
        signed(b"[1]", b"{}"): "header is not an object",
        signed(b'{"alg":"HS256"}', b"not json"): "claims are not JSON",
        signed(b'{"alg":"HS256"}', b"[1, 2]"): "claims are not an object",
        signed(b"{", b"{}"): "not a JWT",
        b64(b'{"alg":"HS256"}') + ".e30": "three dot-separated",
    }
    for token, message in cases.items():
        with pytest.raises(TokenError, match=message) as info:
            signer.verify(token)
        assert info.value.reason == "malformed"


def test_claims_round_trip_through_the_signer() -> None:
    signer = Signer(bytes(32))
    claims = Claims("abc", "B01-U1-0101", ("P-GATE-N",), (), ("g",), 10, 20, 1, None)
    assert signer.verify(signer.sign(claims)) == claims
    assert "p" not in claims.as_payload() and "r" not in claims.as_payload()


async def test_create_pass_through_the_book_directly(hub: Hub) -> None:
    book = book_of(hub)
    now = int(hub.clock.time())
    record = await book.create(
        NewPass("访客", None, "B01-U1-0101", None, now, now + 600, ("P-GATE-N",), (), (), None, 1)
    )
    assert book.validate(book.token(record), "P-GATE-N", hub.clock.now()).ok
