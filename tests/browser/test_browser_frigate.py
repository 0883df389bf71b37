"""The stranger at night end to end in the browser: the Frigate simulator publishes a person
whose face stays unknown over the real Mosquitto broker, the hub's frigate integration turns it
into ``stranger_detected`` at the north gate, the night automation sounds the guard room's
siren, and the console shows it on the site plan with the camera's picture."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import expect

from shouwang.core.clock import ManualClock
from shouwang.integrations.frigate.simulator import FrigateSimulator

from ..services import Mosquitto
from ..test_sightings import register_people
from .community import NIGHT, PASSWORD, Community, start_community
from .conftest import Pages, log_in, screenshot

_ids = itertools.count()


@pytest.fixture
async def frigate_community(
    tmp_path: Path, mosquitto: Mosquitto
) -> AsyncIterator[tuple[Community, FrigateSimulator]]:
    clock = ManualClock(NIGHT)
    prefix = f"frigate_browser{next(_ids)}"
    sim = FrigateSimulator(
        ["north_gate"], broker=(mosquitto.host, mosquitto.port), topic_prefix=prefix, now=clock.time
    )
    await sim.start()
    extra = (
        f"mqtt: {{broker: {mosquitto.host}, port: {mosquitto.port}, discovery: false}}\n"
        f"frigate:\n  url: {sim.url}\n  topic_prefix: {prefix}\n"
        "  cameras:\n    north_gate: {place: P-GATE-N}\n"
    )
    community = await start_community(tmp_path, clock=clock, extra_config=extra)
    yield community, sim
    await community.hub.stop(timeout=1)
    await sim.stop()


async def test_stranger_from_frigate_on_the_site_plan(
    frigate_community: tuple[Community, FrigateSimulator], pages: Pages
) -> None:
    community, sim = frigate_community
    page = await pages.open(community.url + "/console")
    await log_in(page, "guard1", PASSWORD)
    track = sim.track("north_gate", score=0.88).new()
    for _ in range(5):
        track.update()
    track.face(None, 0.52)  # a face nobody in the registry has
    track.end()
    alarm = page.get_by_test_id("siteplan").get_by_test_id("plan-alarm")
    await expect(alarm).to_have_count(1, timeout=15_000)  # over the real broker
    await expect(alarm).to_have_attribute("data-place", "P-GATE-N")
    item = page.get_by_test_id("event-feed").get_by_test_id("feed-item").first
    await expect(item).to_have_attribute("data-event-type", "stranger_detected")
    # Frigate's snapshot lives on the NVR (another origin): the camera's still stands in
    await expect(item.get_by_test_id("snapshot")).to_be_visible()
    assert community.hub.states.get("siren.guard_room").state == "on"
    await screenshot(page, "console-stranger-frigate-zh")


async def test_staff_enrol_the_stranger_as_a_known_person(
    frigate_community: tuple[Community, FrigateSimulator], pages: Pages, tmp_path: Path
) -> None:
    community, sim = frigate_community
    hub = community.hub
    # the property office registers the new tenant; the camera does not know her face yet
    await register_people(hub, tmp_path, "person_id,name,type,face_name\nT9,钱七,tenant,qian_qi\n")
    page = await pages.open(community.url + "/console")
    await log_in(page, "staff1", PASSWORD)
    track = sim.track("north_gate", score=0.9).new()
    track.face(None, 0.5)
    track.end()
    item = page.get_by_test_id("event-feed").get_by_test_id("feed-item").first
    await expect(item).to_have_attribute("data-event-type", "stranger_detected", timeout=15_000)
    await item.click()
    form = page.get_by_test_id("event-detail").get_by_test_id("enroll-form")
    await form.get_by_test_id("enroll-person").fill("T9")
    await form.get_by_test_id("enroll-submit").click()
    await expect(form.get_by_test_id("enroll-result")).to_contain_text("qian_qi")
    assert sim.faces == {"qian_qi": ["qian_qi-1.webp"]}
    await screenshot(page, "console-enrol-stranger-zh")
    # a person the registry does not have: the service's error, on the form
    await form.get_by_test_id("enroll-person").fill("nobody")
    await form.get_by_test_id("enroll-submit").click()
    await expect(form.get_by_test_id("enroll-result")).to_contain_text(
        "nobody is not in the registry"
    )
    # guards see the stranger but do not enrol faces
    guard = await pages.open(community.url + "/console")
    await log_in(guard, "guard1", PASSWORD)
    guard_item = guard.get_by_test_id("event-feed").get_by_test_id("feed-item").first
    await community.clock.advance(3600)  # past the camera's stranger cooldown
    track = sim.track("north_gate", score=0.9).new()
    track.face(None, 0.5)
    track.end()
    await expect(guard_item).to_have_attribute(
        "data-event-type", "stranger_detected", timeout=15_000
    )
    await guard_item.click()
    await expect(guard.get_by_test_id("event-detail").get_by_test_id("snapshot")).to_be_visible()
    await expect(guard.get_by_test_id("enroll-form")).to_have_count(0)
