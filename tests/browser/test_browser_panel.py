"""The household panel in headless Chromium: a resident logs in and sees only their household,
answers the door station's ring and opens the door, issues a visitor pass and sees its QR."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from .community import HAS_VISITOR_PASS, PASSWORD, RESIDENT_HOUSEHOLD, Community
from .conftest import Pages, log_in, screenshot


async def test_resident_sees_only_their_household(community: Community, pages: Pages) -> None:
    page = await pages.open(community.url + "/panel", phone=True)
    await expect(page.get_by_test_id("login-submit")).to_have_text("登录")
    await screenshot(page, "panel-login-zh")
    await log_in(page, "resident1", PASSWORD)
    await expect(page.get_by_test_id("household-name")).to_contain_text("0101")
    doors = page.get_by_test_id("my-doors")
    await expect(doors.locator("tr[data-entity='lock.door_0101']")).to_be_visible()
    entities = await doors.locator("tr[data-entity]").evaluate_all(
        "rows => rows.map(row => row.dataset.entity)"
    )
    assert entities == ["lock.door_0101"]
    alarm = page.get_by_test_id("my-alarm")
    await expect(alarm.locator("[data-entity]")).to_have_count(1)
    await expect(alarm.locator("[data-entity='alarm_control_panel.home_0101']")).to_be_visible()
    # the resident's own door works from the panel
    await doors.locator("tr[data-entity='lock.door_0101']").get_by_test_id("unlock").click()
    await expect(doors.locator("tr[data-entity='lock.door_0101'] td.state")).to_have_text("已开锁")
    assert community.hub.states.get("lock.door_0101").state == "unlocked"
    assert community.hub.states.get("lock.door_0102").state == "locked"
    await screenshot(page, "panel-home-zh")


async def ring(community: Community, household: str = RESIDENT_HOUSEHOLD) -> str:
    """The unit's door station rings a household (through the API, as the station's link
    would through the intercom service); returns the call id."""
    response = await community.post(
        "/api/services/intercom/call?return_response",
        "admin",
        {"entity_id": "intercom.b01_u1_door", "target": household},
    )
    calls = response["service_response"]["calls"]
    assert len(calls) == 1
    return str(calls[0]["call_id"])


async def test_answer_a_ring_and_unlock(community: Community, pages: Pages) -> None:
    page = await pages.open(community.url + "/panel", phone=True)
    await log_in(page, "resident1", PASSWORD)
    ringing = page.get_by_test_id("ringing")
    await expect(ringing).to_be_hidden()
    call_id = await ring(community)
    await expect(ringing).to_be_visible()
    await expect(ringing).to_have_attribute("data-phase", "ringing")
    await expect(page.get_by_test_id("ringing-caller")).to_have_text("1号楼1单元门口机")
    await expect(ringing.get_by_test_id("snapshot")).to_be_visible()  # who is at the door
    assert (await page.title()).startswith("🔔 有人按门铃")
    await screenshot(page, "panel-ringing-zh")

    await page.get_by_test_id("call-answer").click()
    await expect(ringing).to_have_attribute("data-phase", "answered")
    assert not (await page.title()).startswith("🔔")
    manager = community.hub.integrations.runtime("intercom")
    assert manager.calls[call_id].answered_by == "intercom.b01_u1_0101"

    await page.get_by_test_id("call-unlock").click()
    await expect(page.get_by_test_id("call-unlocked")).to_be_visible()
    assert community.hub.states.get("lock.b01_u1_entrance").state == "unlocked"
    await screenshot(page, "panel-unlocked-zh")

    await page.get_by_test_id("call-hangup").click()
    await expect(ringing).to_have_attribute("data-phase", "ended")
    assert call_id not in manager.calls
    # the call reached the resident's notifications too
    await page.get_by_test_id("tab-notifications").click()
    await expect(
        page.get_by_test_id("notifications").get_by_test_id("feed-item").first
    ).to_be_visible()


async def test_another_households_ring_is_not_shown(community: Community, pages: Pages) -> None:
    page = await pages.open(community.url + "/panel", phone=True)
    await log_in(page, "resident1", PASSWORD)
    await ring(community, "B01-U1-0102")
    # a ring for this household afterwards arrives, so the earlier one had its chance
    await ring(community)
    await expect(page.get_by_test_id("ringing")).to_be_visible()
    await page.get_by_test_id("tab-notifications").click()
    households = await page.get_by_test_id("feed-item").evaluate_all(
        "items => items.map(item => item.textContent)"
    )
    assert households and all("0102" not in text for text in households), households


@pytest.mark.skipif(not HAS_VISITOR_PASS, reason="the visitor_pass integration is not installed")
async def test_visitor_pass_with_qr(community: Community, pages: Pages) -> None:
    page = await pages.open(community.url + "/panel", phone=True, locale="en-US")
    await log_in(page, "resident1", PASSWORD)
    await page.get_by_test_id("tab-passes").click()
    await page.get_by_test_id("pass-visitor").fill("Zhang Wei")
    await page.get_by_test_id("pass-phone").fill("13800138000")
    await page.get_by_test_id("pass-create").click()
    qr = page.get_by_test_id("pass-qr")
    await expect(qr).to_be_visible()
    source = await qr.get_attribute("src")
    assert source is not None and source.startswith("data:image/svg+xml")
    width = await qr.evaluate("img => img.naturalWidth")
    assert width > 0  # the SVG decoded into a picture
    rows = page.get_by_test_id("pass-row")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("Zhang Wei")
    await expect(rows.first).to_contain_text(RESIDENT_HOUSEHOLD)
    await screenshot(page, "panel-visitor-pass-en")
    book = community.hub.integrations.runtime("visitor_pass")
    (record,) = book.passes(household=RESIDENT_HOUSEHOLD)
    assert record.visitor_name == "Zhang Wei"
    assert "P-GATE-N" in record.places and "B01-U1" in record.places
    # revoke it from the list
    await rows.first.get_by_test_id("pass-revoke").click()
    await expect(rows.first).to_contain_text("revoked")
