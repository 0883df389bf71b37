"""Accounts and tokens: argon2 hashes at rest, access-token expiry on the hub clock, refresh,
long-lived tokens, revocation and its listeners, lockout and its expiry, and picking up changes
another process (``shouwang auth``) made while the hub runs."""

from __future__ import annotations

from pathlib import Path

import jwt
import pytest
from sqlalchemy import select

from shouwang.core.clock import ManualClock
from shouwang.integrations.auth import AuthError, InvalidLogin, LoginLocked, open_store
from shouwang.integrations.auth.manager import ACCESS_TOKEN_LIFETIME
from shouwang.integrations.auth.model import tokens as token_table
from shouwang.integrations.auth.model import users as user_table
from shouwang.integrations.auth.throttle import LOCKOUT, MAX_FAILURES

from .test_http_support import CLIENT_ID, PASSWORD, add_user, auth_of, start_auth_hub


async def test_passwords_stored_only_as_argon2_hashes(tmp_path: Path, clock: ManualClock) -> None:
    hub = await start_auth_hub(tmp_path, clock)
    try:
        await add_user(hub, "王保安", "guard", password="s3cret-門禁-password")
        auth = auth_of(hub)
        refresh, _access = await auth.create_refresh_token(auth.users()[0], CLIENT_ID)
        with auth.store.storage.transaction() as conn:
            row = conn.execute(select(user_table)).one()
            token_row = conn.execute(select(token_table)).one()
        assert row.name == "王保安" and row.role == "guard"
        assert row.password_hash.startswith("$argon2id$")
        assert "s3cret" not in row.password_hash
        assert token_row.token_hash != refresh and refresh not in str(tuple(token_row))
        raw = (tmp_path / "shouwang.db").read_bytes()
        assert b"s3cret" not in raw and refresh.encode() not in raw
    finally:
        await hub.stop(timeout=1)


async def test_user_validation(tmp_path: Path, clock: ManualClock) -> None:
    hub = await start_auth_hub(tmp_path, clock)
    auth = auth_of(hub)
    try:
        with pytest.raises(AuthError, match="at least one household"):
            await auth.create_user("r", "resident", [], PASSWORD)
        with pytest.raises(AuthError, match="only residents"):
            await auth.create_user("g", "guard", ["H1"], PASSWORD)
        with pytest.raises(AuthError, match="unknown role"):
            await auth.create_user("x", "root", [], PASSWORD)
        with pytest.raises(AuthError, match="at least 8"):
            await auth.create_user("x", "staff", [], "short")
        with pytest.raises(AuthError, match="at most 1024"):
            await auth.create_user("x", "staff", [], "x" * 1025)
        with pytest.raises(AuthError, match="1 to 64"):
            await auth.create_user("  ", "staff", [], PASSWORD)
        await auth.create_user("Li", "staff", [], PASSWORD)
        with pytest.raises(AuthError, match="exists"):
            await auth.create_user("li", "guard", [], PASSWORD)
        assert [u.name for u in auth.users()] == ["Li"]
    finally:
        await hub.stop(timeout=1)


async def test_users_and_tokens_survive_restart(tmp_path: Path, clock: ManualClock) -> None:
    hub = await start_auth_hub(tmp_path, clock)
    user = await add_user(hub, "r1", "resident", ("H1", "H2"))
    token, record = await auth_of(hub).create_long_lived_token(user.id, "voice")
    await hub.stop(timeout=1)
    hub = await start_auth_hub(tmp_path, clock)
    try:
        auth = auth_of(hub)
        assert auth.get_user(user.id) == user
        assert auth.user_by_name("R1") == user
        assert await auth.validate_access_token(token) == user
        assert [t.id for t in auth.tokens(user.id)] == [record.id]
        assert await auth.login("r1", PASSWORD, "10.0.0.1") == user
    finally:
        await hub.stop(timeout=1)


async def test_access_token_expires_on_hub_clock_and_refresh_renews(
    tmp_path: Path, clock: ManualClock
) -> None:
    hub = await start_auth_hub(tmp_path, clock)
    try:
        auth = auth_of(hub)
        user = await add_user(hub, "guard1", "guard")
        refresh, access = await auth.create_refresh_token(user, CLIENT_ID)
        assert await auth.validate_access_token(access) == user
        claims = jwt.decode(access, options={"verify_signature": False})
        assert claims["exp"] - claims["iat"] == ACCESS_TOKEN_LIFETIME
        await clock.advance(ACCESS_TOKEN_LIFETIME - 1)
        assert await auth.validate_access_token(access) == user
        await clock.advance(2)
        assert await auth.validate_access_token(access) is None
        assert auth.access_token_from_refresh(refresh, "http://other.example/") is None
        renewed = auth.access_token_from_refresh(refresh, CLIENT_ID)
        assert renewed is not None and await auth.validate_access_token(renewed) == user
        assert auth.access_token_from_refresh("not-a-token", CLIENT_ID) is None
    finally:
        await hub.stop(timeout=1)


async def test_forged_and_foreign_tokens_refused(tmp_path: Path, clock: ManualClock) -> None:
    hub = await start_auth_hub(tmp_path, clock)
    try:
        auth = auth_of(hub)
        user = await add_user(hub, "staff1", "staff")
        _refresh, access = await auth.create_refresh_token(user, CLIENT_ID)
        claims = jwt.decode(access, options={"verify_signature": False})
        now = int(clock.time())
        forged = jwt.encode({**claims, "exp": now + 10**6}, "guessed-key-" * 4, algorithm="HS256")
        assert await auth.validate_access_token(forged) is None
        unsigned = jwt.encode({**claims}, None, algorithm="none")  # type: ignore[arg-type]
        assert await auth.validate_access_token(unsigned) is None
        no_issuer = jwt.encode({"exp": now + 60}, "k" * 32, algorithm="HS256")
        assert await auth.validate_access_token(no_issuer) is None
        assert await auth.validate_access_token("garbage") is None
        assert auth.token_id_of(forged) is None
        assert auth.token_id_of(access) == claims["iss"]
    finally:
        await hub.stop(timeout=1)


async def test_long_lived_tokens_listed_and_revoked_with_listeners(
    tmp_path: Path, clock: ManualClock
) -> None:
    hub = await start_auth_hub(tmp_path, clock)
    try:
        auth = auth_of(hub)
        service = await add_user(hub, "voice", "service")
        token, record = await auth.create_long_lived_token(service.id, "xiaoai speaker", 365)
        with pytest.raises(AuthError, match="already has"):
            await auth.create_long_lived_token(service.id, "xiaoai speaker")
        with pytest.raises(AuthError, match="no user"):
            await auth.create_long_lived_token("nobody", "x")
        await clock.advance(364 * 86400)
        assert await auth.validate_access_token(token) == service
        listed = [t.public() for t in auth.tokens()]
        assert listed == [record.public()]
        assert "jwt_key" not in listed[0] and "token_hash" not in listed[0]
        revoked: list[str] = []
        remove = auth.on_revoke(revoked.append)
        assert await auth.revoke_token(record.id)
        assert revoked == [record.id]
        assert await auth.validate_access_token(token) is None
        assert not await auth.revoke_token(record.id)
        remove()
        remove()
        token2, record2 = await auth.create_long_lived_token(service.id, "short", 1)
        await clock.advance(86401)
        assert await auth.validate_access_token(token2) is None
        assert await auth.revoke_token(record2.id)
        assert revoked == [record.id]  # listener removed
    finally:
        await hub.stop(timeout=1)


async def test_disable_delete_and_password_change_end_sessions(
    tmp_path: Path, clock: ManualClock
) -> None:
    hub = await start_auth_hub(tmp_path, clock)
    try:
        auth = auth_of(hub)
        user = await add_user(hub, "r1", "resident", ("H1",))
        revoked: list[str] = []
        auth.on_revoke(revoked.append)
        auth.on_revoke(lambda _id: 1 / 0)  # a failing listener does not stop the others
        refresh, access = await auth.create_refresh_token(user, CLIENT_ID)
        token_id = auth.token_id_of(access)
        await auth.set_active(user.id, False)
        assert revoked == [user.id]
        assert await auth.validate_access_token(access) is None
        assert auth.access_token_from_refresh(refresh, CLIENT_ID) is None
        with pytest.raises(InvalidLogin):
            await auth.login("r1", PASSWORD, "10.0.0.1")
        await auth.set_active(user.id, True)
        assert await auth.validate_access_token(access) == auth.get_user(user.id)
        await auth.set_password(user.id, "another good password")
        assert revoked == [user.id, token_id, user.id]
        assert await auth.validate_access_token(access) is None
        assert await auth.login("r1", "another good password", "10.0.0.1")
        long_token, record = await auth.create_long_lived_token(user.id, "panel")
        await auth.delete_user(user.id)
        assert revoked[-2:] == [record.id, user.id]
        assert await auth.validate_access_token(long_token) is None
        assert auth.users() == [] and auth.tokens() == []
        with pytest.raises(AuthError):
            await auth.delete_user(user.id)
    finally:
        await hub.stop(timeout=1)


async def test_auth_codes_are_single_use_bound_to_client_and_expire(
    tmp_path: Path, clock: ManualClock
) -> None:
    hub = await start_auth_hub(tmp_path, clock)
    try:
        auth = auth_of(hub)
        user = await add_user(hub, "staff1", "staff")
        code = auth.create_auth_code(CLIENT_ID, user)
        assert auth.redeem_auth_code("http://evil.example/", code) is None
        code = auth.create_auth_code(CLIENT_ID, user)
        assert auth.redeem_auth_code(CLIENT_ID, code) == user
        assert auth.redeem_auth_code(CLIENT_ID, code) is None
        code = auth.create_auth_code(CLIENT_ID, user)
        await clock.advance(601)
        assert auth.redeem_auth_code(CLIENT_ID, code) is None
    finally:
        await hub.stop(timeout=1)


async def test_lockout_per_username_and_address_and_it_expires(
    tmp_path: Path, clock: ManualClock
) -> None:
    hub = await start_auth_hub(tmp_path, clock)
    try:
        auth = auth_of(hub)
        await add_user(hub, "staff1", "staff")
        attacker, home = "203.0.113.9", "192.168.1.20"
        for _ in range(MAX_FAILURES):
            with pytest.raises(InvalidLogin):
                await auth.login("staff1", "wrong password", attacker)
        with pytest.raises(LoginLocked) as locked:
            await auth.login("staff1", PASSWORD, attacker)  # even the right password
        assert locked.value.retry_after == LOCKOUT
        with pytest.raises(LoginLocked):  # other spellings of the name are the same account
            await auth.login(" Staff1 ", PASSWORD, attacker)
        # the real user, at their own address, is not locked out by the attacker
        assert (await auth.login("staff1", PASSWORD, home)).name == "staff1"
        # attempts during the lockout do not extend it
        await clock.advance(LOCKOUT - 60)
        for _ in range(10):
            with pytest.raises(LoginLocked):
                await auth.login("staff1", "wrong password", attacker)
        await clock.advance(61)
        assert (await auth.login("STAFF1", PASSWORD, attacker)).name == "staff1"
    finally:
        await hub.stop(timeout=1)


async def test_failures_spread_over_time_do_not_lock(tmp_path: Path, clock: ManualClock) -> None:
    hub = await start_auth_hub(tmp_path, clock)
    try:
        auth = auth_of(hub)
        await add_user(hub, "staff1", "staff")
        for _ in range(3 * MAX_FAILURES):
            with pytest.raises(InvalidLogin):
                await auth.login("staff1", "wrong password", "10.1.1.1")
            await clock.advance(15 * 60 / (MAX_FAILURES - 1) + 1)
        assert await auth.login("staff1", PASSWORD, "10.1.1.1")
    finally:
        await hub.stop(timeout=1)


async def test_one_address_spraying_many_usernames_is_locked(
    tmp_path: Path, clock: ManualClock
) -> None:
    hub = await start_auth_hub(tmp_path, clock)
    try:
        auth = auth_of(hub)
        await add_user(hub, "staff1", "staff")
        for index in range(30):
            with pytest.raises(InvalidLogin):
                await auth.login(f"user{index}", "guess", "198.51.100.7")
        with pytest.raises(LoginLocked):
            await auth.login("staff1", PASSWORD, "198.51.100.7")
        assert await auth.login("staff1", PASSWORD, "198.51.100.8")
    finally:
        await hub.stop(timeout=1)


async def test_running_hub_picks_up_changes_made_by_another_process(
    tmp_path: Path, clock: ManualClock
) -> None:
    hub = await start_auth_hub(tmp_path, clock)
    try:
        auth = auth_of(hub)
        user = await add_user(hub, "r1", "resident", ("H1",))
        _refresh, access = await auth.create_refresh_token(user, CLIENT_ID)
        token_id = auth.token_id_of(access)
        revoked: list[str] = []
        auth.on_revoke(revoked.append)
        other = open_store(tmp_path)  # what `shouwang auth revoke-token` does
        other.delete_tokens([token_id or ""])
        other.storage.close()
        assert await auth.validate_access_token(access) == user  # not yet seen
        await auth.sync()
        assert revoked == [token_id]
        assert await auth.validate_access_token(access) is None
    finally:
        await hub.stop(timeout=1)


async def test_sync_adopts_new_users_and_disabled_ones(tmp_path: Path, clock: ManualClock) -> None:
    from shouwang.integrations.auth.manager import hash_password, new_user_record

    hub = await start_auth_hub(tmp_path, clock)
    try:
        auth = auth_of(hub)
        user = await add_user(hub, "g1", "guard")
        revoked: list[str] = []
        auth.on_revoke(revoked.append)
        other = open_store(tmp_path)
        record = new_user_record("new", "staff", [], hash_password(PASSWORD), 0.0)
        other.insert_user(record)
        users, _tokens = other.load()
        other.update_user(users[user.id].with_changes(is_active=False))
        other.storage.close()
        await auth.sync()
        assert auth.user_by_name("new") is not None
        assert await auth.login("new", PASSWORD, "10.0.0.2")
        assert revoked == [user.id]
        assert auth.get_user(user.id) is not None and not auth.get_user(user.id).is_active  # type: ignore[union-attr]
    finally:
        await hub.stop(timeout=1)


async def test_periodic_sync_runs_on_the_loop(tmp_path: Path, clock: ManualClock) -> None:
    import asyncio

    hub = await start_auth_hub(tmp_path, clock)
    try:
        auth = auth_of(hub)
        other = open_store(tmp_path)
        from shouwang.integrations.auth.manager import new_user_record

        other.insert_user(new_user_record("late", "guard", [], None, 0.0))
        other.storage.close()
        cancel = auth.start_sync(interval=0.01)
        for _ in range(500):  # waits for a real file write by another connection
            await asyncio.sleep(0.01)
            if auth.user_by_name("late") is not None:
                break
        cancel()
        assert auth.user_by_name("late") is not None
    finally:
        await hub.stop(timeout=1)


async def test_role_changes_and_the_last_admin(tmp_path: Path, clock: ManualClock) -> None:
    hub = await start_auth_hub(tmp_path, clock)
    try:
        auth = auth_of(hub)
        admin = await add_user(hub, "admin", "admin")
        user = await add_user(hub, "li", "guard")
        revoked: list[str] = []
        auth.on_revoke(revoked.append)
        changed = await auth.set_role(user.id, "resident", ["H1"])
        assert (changed.role, changed.households) == ("resident", frozenset({"H1"}))
        assert revoked == [user.id]
        with pytest.raises(AuthError, match="at least one household"):
            await auth.set_role(user.id, "resident", [])
        for change in (
            auth.set_role(admin.id, "staff"),
            auth.set_active(admin.id, False),
            auth.delete_user(admin.id),
        ):
            with pytest.raises(AuthError, match="last active admin"):
                await change
        second = await add_user(hub, "admin2", "admin")
        await auth.set_role(admin.id, "staff")
        with pytest.raises(AuthError, match="last active admin"):
            await auth.delete_user(second.id)
    finally:
        await hub.stop(timeout=1)


async def test_households_of_event(tmp_path: Path, clock: ManualClock) -> None:
    from shouwang.core.events import Event
    from shouwang.core.places import Place

    hub = await start_auth_hub(tmp_path, clock)
    try:
        hub.places.add(Place("H1", "0101", "household"))
        hub.states.set("lock.h1", "locked")
        hub.places.bind("lock.h1", "H1")
        auth = auth_of(hub)
        event = Event("door_held_open", {"entity_id": "lock.h1", "household_id": "H7"}, None, 0.0)
        assert auth.households_of_event(event) == {"H1", "H7"}
        assert auth.households_of_event(Event("hub_started", {}, None, 0.0)) == set()
    finally:
        await hub.stop(timeout=1)


async def test_auth_needs_a_config_dir(clock: ManualClock) -> None:
    from shouwang.core.hub import Hub

    hub = Hub(clock=clock)
    await hub.start()
    try:
        await hub.integrations.setup_many({"auth": None})
        assert "auth" in hub.integrations.failed
        assert "http" not in hub.integrations.loaded
    finally:
        await hub.stop(timeout=1)


async def test_store_on_postgresql(postgres_url: str, tmp_path: Path, clock: ManualClock) -> None:
    (tmp_path / "configuration.yaml").write_text(
        f"auth:\n  db_url: {postgres_url}\n", encoding="utf-8"
    )
    from shouwang.core.hub import Hub

    hub = Hub(tmp_path, clock=clock)
    await hub.start()
    try:
        auth = auth_of(hub)
        user = await auth.create_user("李主任", "staff", [], PASSWORD)
        token, record = await auth.create_long_lived_token(user.id, "nvr")
        refresh, _access = await auth.create_refresh_token(user, CLIENT_ID)
        await auth.set_active(user.id, True)
    finally:
        await hub.stop(timeout=1)
    assert not (tmp_path / "shouwang.db").exists()
    hub = Hub(tmp_path, clock=clock)
    await hub.start()
    try:
        auth = auth_of(hub)
        assert await auth.validate_access_token(token) == user
        assert auth.access_token_from_refresh(refresh, CLIENT_ID) is not None
        assert await auth.login("李主任", PASSWORD, "10.0.0.1") == user
        assert await auth.revoke_token(record.id)
        await auth.delete_user(user.id)
        assert auth.users() == []
    finally:
        await hub.stop(timeout=1)
