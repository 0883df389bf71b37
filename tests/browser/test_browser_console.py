"""The staff console in headless Chromium: staff break an automation's YAML and see the
validator's error at its line, fix it, run it and open its trace; guards see automations
read-only; a stranger at night pops up on the site plan; every section renders (screenshots)."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from playwright.async_api import Page, expect

from .community import AUTOMATIONS, HAS_VISITOR_PASS, PASSWORD, Community, start_community
from .conftest import Pages, log_in, screenshot

REPO_FRONTEND = Path(__file__).resolve().parents[2] / "frontend"
BROKEN_LINE = 4  # "    - trigger: event" in AUTOMATIONS


async def open_automations(page: Page) -> None:
    await page.get_by_test_id("nav-automations").click()
    await expect(page.get_by_test_id("automation-row")).to_have_count(2)
    await expect(page.locator(".cm-content")).to_contain_text("stranger_at_night")


async def replace_text(page: Page, text: str) -> None:
    """Select everything in the editor and type ``text`` in its place (real key input)."""
    await page.locator(".cm-content").click()
    await page.keyboard.press("Control+a")
    await page.keyboard.insert_text(text)


async def test_break_fix_run_and_trace(community: Community, pages: Pages) -> None:
    page = await pages.open(community.url + "/console")
    await log_in(page, "staff1", PASSWORD)
    await open_automations(page)

    lines = AUTOMATIONS.splitlines()
    assert lines[BROKEN_LINE - 1].strip() == "- trigger: event"
    broken = "\n".join([*lines[: BROKEN_LINE - 1], "    - trigger: evnt", *lines[BROKEN_LINE:]])
    await replace_text(page, broken)
    error = page.get_by_test_id("editor-error")
    await expect(error.first).to_be_visible()
    await expect(error.first).to_have_attribute("data-line", str(BROKEN_LINE))
    await expect(page.get_by_test_id("editor-status")).to_have_attribute("data-valid", "false")
    # the editor marks the very line: the lint range sits in the line that holds the typo
    marked = page.locator(".cm-line", has=page.locator(".cm-lintRange-error"))
    await expect(marked).to_have_count(1)
    await expect(marked).to_contain_text("trigger: evnt")
    await screenshot(page, "console-automation-error-zh")

    # saving is refused while it is broken, and the file on disk is untouched
    await page.get_by_test_id("save").click()
    await expect(page.get_by_test_id("editor-status")).to_have_text("未保存：请先修正错误。")
    path = community.hub.config_dir / "automations" / "main.yaml"
    assert "evnt" not in path.read_text(encoding="utf-8")

    # fix it: a new alias, saved with a backup and reloaded
    fixed = AUTOMATIONS.replace("夜间陌生人 → 保安室警号", "夜间陌生人 → 警号（已修改）")
    await replace_text(page, fixed)
    await expect(page.get_by_test_id("editor-status")).to_have_attribute("data-valid", "true")
    await expect(error).to_have_count(0)
    await page.get_by_test_id("save").click()
    await expect(page.get_by_test_id("editor-status")).to_have_text("已保存并重新加载。")
    assert "已修改" in path.read_text(encoding="utf-8")
    backups = list((community.hub.config_dir / ".storage" / "automation_backups").iterdir())
    assert len(backups) == 1
    row = page.locator("[data-testid=automation-row][data-entity='automation.stranger_at_night']")
    await expect(row).to_contain_text("已修改")

    # run it now and read its trace
    await row.get_by_test_id("run").click()
    trace = page.get_by_test_id("trace-view")
    await expect(trace.get_by_test_id("trace-outcome")).to_have_text("完成")
    await expect(trace.get_by_test_id("trace-step")).to_have_count(1)
    await expect(trace.get_by_test_id("trace-step")).to_contain_text("action/0")
    assert community.hub.states.get("siren.guard_room").state == "on"
    await screenshot(page, "console-trace-zh")

    # disable it: the switch is a real service call
    await row.get_by_test_id("disable").click()
    await expect(row.locator("[data-role=state]")).to_have_text("关")
    assert community.hub.states.get("automation.stranger_at_night").state == "off"


async def test_guard_sees_automations_read_only(community: Community, pages: Pages) -> None:
    page = await pages.open(community.url + "/console", locale="en-US")
    await log_in(page, "guard1", PASSWORD)
    await open_automations(page)
    await expect(page.get_by_test_id("read-only")).to_be_visible()
    for hidden in ("save", "validate", "reload", "enable", "disable"):
        await expect(page.get_by_test_id(hidden)).to_have_count(0)
    await expect(page.locator(".cm-content")).to_have_attribute("contenteditable", "false")
    # running an automation is a control, which guards have
    await expect(page.get_by_test_id("run").first).to_be_visible()
    await screenshot(page, "console-automations-guard-en")


async def test_stranger_at_night_on_the_site_plan(community: Community, pages: Pages) -> None:
    page = await pages.open(community.url + "/console")
    await log_in(page, "guard1", PASSWORD)
    plan = page.get_by_test_id("siteplan")
    await expect(plan.locator("[data-place='P-GATE-N']")).to_be_visible()
    await expect(plan.locator("[data-entity='camera.north_gate']")).to_have_count(1)
    # Frigate's event shape, fired through the API (POST /api/events, as an admin)
    await community.post(
        "/api/events/stranger_detected",
        "admin",
        {
            "camera": "camera.north_gate",
            "place": "P-GATE-N",
            "label": "person",
            "face_name": None,
            "snapshot_url": None,
        },
    )
    alarm = plan.get_by_test_id("plan-alarm")
    await expect(alarm).to_have_count(1)
    await expect(alarm).to_have_attribute("data-place", "P-GATE-N")
    await expect(alarm).to_contain_text("北门 发现陌生人")
    item = page.get_by_test_id("event-feed").get_by_test_id("feed-item").first
    await expect(item).to_have_attribute("data-event-type", "stranger_detected")
    await expect(item.get_by_test_id("snapshot")).to_be_visible()
    # it is night (23:30 in Shanghai): the automation rang the guard room's siren
    assert community.hub.states.get("siren.guard_room").state == "on"
    await alarm.locator(".bubble-text").click()
    await expect(page.get_by_test_id("event-detail").get_by_test_id("snapshot")).to_be_visible()
    await screenshot(page, "console-stranger-at-night-zh")


async def test_sections_render(community: Community, pages: Pages) -> None:
    page = await pages.open(community.url + "/console")
    await log_in(page, "staff1", PASSWORD)
    await screenshot(page, "console-overview-zh")

    await page.get_by_test_id("nav-entities").click()
    gate = page.locator("[data-testid=entity-table] tr[data-entity='lock.north_gate']")
    await gate.get_by_test_id("unlock").click()
    await expect(gate.locator("td.state")).to_have_text("已开锁")
    assert community.hub.states.get("lock.north_gate").state == "unlocked"
    await page.get_by_test_id("entity-search").fill("0101")
    await expect(page.locator("[data-testid=entity-table] tr[data-entity]")).to_have_count(3)
    await screenshot(page, "console-entities-zh")

    await page.get_by_test_id("nav-registry").click()
    await expect(page.get_by_test_id("registry-table").locator("tbody tr").first).to_be_visible()
    await page.get_by_test_id("registry-households").click()
    await expect(page.get_by_test_id("registry-table").locator("tbody tr")).to_have_count(2)
    await screenshot(page, "console-registry-zh")

    # a call that started before the section opened shows as live (from the call log)
    await community.post(
        "/api/services/intercom/call",
        "admin",
        {"entity_id": "intercom.b01_u1_door", "target": "B01-U1-0102"},
    )
    await page.get_by_test_id("nav-calls").click()
    await expect(page.get_by_test_id("live-call")).to_have_count(1)
    await expect(page.get_by_test_id("call-row")).to_have_count(1)
    await screenshot(page, "console-intercom-zh")
    # the guard on duty opens the door for the visitor from the console
    await page.get_by_test_id("live-unlock").click()
    await expect(page.get_by_test_id("toast").last).to_have_text("已执行。")
    assert community.hub.states.get("lock.b01_u1_entrance").state == "unlocked"
    await page.get_by_test_id("live-hangup").click()
    await expect(page.get_by_test_id("live-call")).to_have_count(0)
    await expect(page.get_by_test_id("call-row")).to_have_attribute("data-phase", "ended")

    if HAS_VISITOR_PASS:
        await page.get_by_test_id("nav-passes").click()
        # the registry's households are suggested as staff type
        await expect(page.locator("#pass-households option")).to_have_count(2)
        await page.get_by_test_id("pass-visitor").fill("李娜")
        await page.get_by_test_id("pass-household").fill("B01-U1-0102")
        await page.get_by_test_id("pass-places").fill("P-GATE-N,B01-U1")
        await page.get_by_test_id("pass-create").click()
        await expect(page.get_by_test_id("pass-qr")).to_be_visible()
        await expect(page.get_by_test_id("pass-row")).to_have_count(1)
        await screenshot(page, "console-passes-zh")

    # the language switch re-renders in English
    await page.get_by_test_id("language").select_option("en")
    await expect(page.get_by_test_id("nav-passes")).to_have_text("Visitor passes")


async def test_residents_are_sent_to_their_panel(community: Community, pages: Pages) -> None:
    page = await pages.open(community.url + "/console", locale="en-US")
    await page.get_by_test_id("login-username").fill("resident1")
    await page.get_by_test_id("login-password").fill(PASSWORD)
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("resident-redirect")).to_be_visible()


async def test_wrong_password_is_refused(community: Community, pages: Pages) -> None:
    page = await pages.open(community.url + "/console", locale="en-US")
    await page.get_by_test_id("login-username").fill("staff1")
    await page.get_by_test_id("login-password").fill("not-the-password")
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("login-error")).to_have_text("Wrong user name or password.")
    await screenshot(page, "console-login-error-en")


async def test_reconnects_and_resubscribes(community: Community, pages: Pages) -> None:
    page = await pages.open(community.url + "/console")
    await log_in(page, "guard1", PASSWORD)
    status = page.get_by_test_id("connection-status")
    websocket = community.hub.integrations.runtime("api").websocket
    (old,) = websocket.connections
    old.close(1001, "hub restarting")  # as a restart drops every socket
    for _ in range(200):  # real time: the browser reconnects after its backoff
        if websocket.connections and old not in websocket.connections:
            break
        await asyncio.sleep(0.05)
    assert websocket.connections and old not in websocket.connections
    # "connected" again only once the subscriptions are renewed on the new socket
    await expect(status).to_have_attribute("data-status", "connected")
    await community.post(
        "/api/events/door_forced", "admin", {"door": "gate_north", "place": "P-GATE-N"}
    )
    alarm = page.get_by_test_id("siteplan").get_by_test_id("plan-alarm")
    await expect(alarm).to_have_attribute("data-event-type", "door_forced")


async def test_revoked_session_is_signed_out(community: Community, pages: Pages) -> None:
    page = await pages.open(community.url + "/console")
    await log_in(page, "staff1", PASSWORD)
    user = community.users["staff"]
    sessions = [t for t in community.auth.tokens(user.id) if t.kind == "refresh"]
    assert len(sessions) == 1
    await community.auth.revoke_token(sessions[0].id)
    await expect(page.get_by_test_id("connection-status")).to_have_attribute(
        "data-status", "auth_invalid"
    )


async def test_editor_without_the_bundle_is_a_text_area(tmp_path: Path, pages: Pages) -> None:
    """Without node at set-up time there is no CodeMirror bundle: the editor is a plain text
    area, and the validator's errors are still listed with their lines."""
    copy = tmp_path / "frontend"
    shutil.copytree(REPO_FRONTEND, copy, ignore=shutil.ignore_patterns("node_modules", "vendor"))
    (tmp_path / "config").mkdir()
    community = await start_community(tmp_path / "config", frontend_path=copy)
    try:
        assert community.hub.integrations.runtime("frontend").editor_bundled is False
        page = await pages.open(community.url + "/console")
        await log_in(page, "staff1", PASSWORD)
        await page.get_by_test_id("nav-automations").click()
        editor = page.get_by_test_id("yaml-editor")
        await expect(editor).to_have_attribute("data-editor", "textarea")
        area = editor.locator("textarea")
        await expect(area).to_have_value(AUTOMATIONS)
        await area.fill(AUTOMATIONS.replace("trigger: event", "trigger: evnt"))
        error = page.get_by_test_id("editor-error")
        await expect(error).to_have_attribute("data-line", str(BROKEN_LINE))
        await expect(error).to_contain_text("第 4 行")
    finally:
        await community.hub.stop(timeout=1)
