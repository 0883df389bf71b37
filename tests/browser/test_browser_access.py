"""Door alarms from the access integration in the browser: a door contact opening while its
lock is locked is ``door_forced``, and the door left open past its alarm time is
``door_held_open`` (hub clock) — both pop up at the door's place on the console's site plan,
with the door's camera picture in the feed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import expect

from shouwang.core.events import Context
from shouwang.core.platforms import BinarySensorEntity

from .community import PASSWORD, Community, start_community
from .conftest import Pages, log_in, screenshot

ACCESS = """\
access:
  doors:
    - id: gate_north
      name: 北门
      place: P-GATE-N
      lock: lock.north_gate
      contact: binary_sensor.north_gate_contact
      camera: camera.north_gate
      held_open: {reminder: 30, alarm: 60}
"""


class Contact(BinarySensorEntity):
    """A door contact: on = open."""

    def __init__(self) -> None:
        super().__init__(
            "北门 门磁", place_id="P-GATE-N", entity_id="binary_sensor.north_gate_contact"
        )
        self.is_on = False

    def set(self, is_open: bool) -> None:
        self.is_on = is_open
        self.write_state(Context())


@pytest.fixture
async def access_community(tmp_path: Path) -> AsyncIterator[tuple[Community, Contact]]:
    community = await start_community(tmp_path, extra_config=ACCESS)
    assert "access" in community.hub.integrations.loaded, community.hub.integrations.failed
    contact = Contact()
    await community.hub.entities.add([contact], integration="tests")
    yield community, contact
    await community.hub.stop(timeout=1)


async def test_door_alarms_on_the_site_plan(
    access_community: tuple[Community, Contact], pages: Pages
) -> None:
    community, contact = access_community
    page = await pages.open(community.url + "/console")
    await log_in(page, "guard1", PASSWORD)
    alarms = page.get_by_test_id("siteplan").get_by_test_id("plan-alarm")

    contact.set(True)  # opened while locked: forced
    forced = alarms.and_(page.locator("[data-event-type=door_forced]"))
    await expect(forced).to_have_count(1)
    await expect(forced).to_have_attribute("data-place", "P-GATE-N")
    await expect(forced).to_contain_text("门被强行打开：北门")

    await community.clock.advance(61)  # seconds: still open past the alarm time
    held = alarms.and_(page.locator("[data-event-type=door_held_open]"))
    await expect(held).to_have_count(2)  # the reminder, then the alarm
    feed = page.get_by_test_id("event-feed").get_by_test_id("feed-item")
    await expect(feed.first).to_have_attribute("data-event-type", "door_held_open")
    await expect(feed.first.get_by_test_id("snapshot")).to_be_visible()  # the door's camera
    await screenshot(page, "console-door-alarms-zh")
