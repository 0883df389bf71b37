"""Which event loop ``shouwang run`` uses: uvloop when installed, the standard one on request."""

from __future__ import annotations

import asyncio
import logging

import pytest

from shouwang.core import event_loop


async def _loop_module() -> str:
    return type(asyncio.get_running_loop()).__module__


def test_run_uses_uvloop_when_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("uvloop")
    monkeypatch.delenv(event_loop.ENV_VARIABLE, raising=False)
    assert event_loop.run(_loop_module()).startswith("uvloop")


def test_the_standard_loop_on_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(event_loop.ENV_VARIABLE, "asyncio")
    assert event_loop.loop_factory() is None
    assert event_loop.run(_loop_module()).startswith("asyncio")


def test_an_unknown_choice_is_named_and_uvloop_kept(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    pytest.importorskip("uvloop")
    monkeypatch.setenv(event_loop.ENV_VARIABLE, "tokio")
    with caplog.at_level(logging.WARNING):
        assert event_loop.loop_factory() is not None
    assert "SHOUWANG_EVENT_LOOP='tokio'" in caplog.text
