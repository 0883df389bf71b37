"""``shouwang auth …`` on a config directory: create users (password from a file or the
terminal), print a long-lived token that a hub then accepts, list and revoke tokens."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from shouwang.core.cli import main
from shouwang.core.clock import ManualClock
from shouwang.integrations.auth import open_store

from .test_http_support import PASSWORD, auth_of, start_auth_hub


def _password_file(tmp_path: Path, password: str = PASSWORD) -> Path:
    path = tmp_path / "pw.txt"
    path.write_text(password + "\n", encoding="utf-8")
    return path


def test_create_user_and_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "cfg"
    pw = _password_file(tmp_path)
    assert (
        main(
            [
                "auth",
                "create-user",
                "admin",
                "--role",
                "admin",
                "--password-file",
                str(pw),
                "-c",
                str(config),
            ]
        )
        == 0
    )
    assert "created admin admin" in capsys.readouterr().out
    assert main(["auth", "create-user", "张三", "--role", "resident", "--household", "B01-U1-0101",
                 "--household", "B01-U1-0102", "--password-file", str(pw), "-c", str(config)]) == 0  # fmt: skip
    assert (
        main(
            [
                "auth",
                "create-user",
                "voice",
                "--role",
                "service",
                "--no-password",
                "-c",
                str(config),
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["auth", "list-users", "-c", str(config)]) == 0
    out = capsys.readouterr().out
    assert "张三  resident  B01-U1-0101,B01-U1-0102  active" in out
    assert "voice  service  -  active" in out
    assert PASSWORD not in out and "argon2" not in out
    users, _ = open_store(config).load()
    assert {u.name: u.password_hash is None for u in users.values()} == {
        "admin": False,
        "张三": False,
        "voice": True,
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x", "--role", "resident"], "at least one household"),
        (["x", "--role", "guard", "--household", "H1"], "only residents"),
        (["admin", "--role", "staff"], "exists"),
    ],
)
def test_create_user_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    config = tmp_path / "cfg"
    pw = _password_file(tmp_path)
    assert (
        main(
            [
                "auth",
                "create-user",
                "admin",
                "--role",
                "admin",
                "--password-file",
                str(pw),
                "-c",
                str(config),
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["auth", "create-user", *args, "--password-file", str(pw), "-c", str(config)]) == 1
    assert message in capsys.readouterr().err


def test_short_password_and_missing_file_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "cfg"
    short = _password_file(tmp_path, "abc")
    assert (
        main(
            [
                "auth",
                "create-user",
                "a",
                "--role",
                "admin",
                "--password-file",
                str(short),
                "-c",
                str(config),
            ]
        )
        == 1
    )
    assert "at least 8" in capsys.readouterr().err
    missing = tmp_path / "nope.txt"
    assert (
        main(
            [
                "auth",
                "create-user",
                "a",
                "--role",
                "admin",
                "--password-file",
                str(missing),
                "-c",
                str(config),
            ]
        )
        == 1
    )
    assert "nope.txt" in capsys.readouterr().err
    users, _ = open_store(config).load()
    assert users == {}


def test_prompted_password_must_match(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "cfg"
    answers = iter(["first password", "second password"])
    monkeypatch.setattr("getpass.getpass", lambda _prompt: next(answers))
    assert main(["auth", "create-user", "a", "--role", "staff", "-c", str(config)]) == 1
    assert "differ" in capsys.readouterr().err
    answers = iter([PASSWORD, PASSWORD])
    assert main(["auth", "create-user", "a", "--role", "staff", "-c", str(config)]) == 0


def test_households_checked_against_the_registry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "cfg"
    households = Path("/work/shared/data/community/households.csv")
    if not households.exists():
        households = tmp_path / "households.csv"
        households.write_text(
            "户号,楼栋,单元,楼层,房号,标准地址,房屋性质,面积\nB01-U1-0101,1号楼,1单元,1,0101,地址,自住,68\n",
            encoding="utf-8",
        )
    assert main(["registry", "import", str(households), "-c", str(config)]) == 0
    pw = _password_file(tmp_path)
    assert main(["auth", "create-user", "r", "--role", "resident", "--household", "B99-U9-9999",
                 "--password-file", str(pw), "-c", str(config)]) == 1  # fmt: skip
    assert "unknown household(s) in the registry: B99-U9-9999" in capsys.readouterr().err
    assert main(["auth", "create-user", "r", "--role", "resident", "--household", "B01-U1-0101",
                 "--password-file", str(pw), "-c", str(config)]) == 0  # fmt: skip


async def test_token_printed_by_cli_works_on_the_hub_and_revocation(
    tmp_path: Path, clock: ManualClock, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path
    assert (
        main(
            [
                "auth",
                "create-user",
                "voice",
                "--role",
                "service",
                "--no-password",
                "-c",
                str(config),
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["auth", "create-token", "VOICE", "--name", "xiaoai", "-c", str(config)]) == 0
    captured = capsys.readouterr()
    token = captured.out.strip()
    assert token.count(".") == 2 and "xiaoai" in captured.err
    assert main(["auth", "create-token", "voice", "--name", "xiaoai", "-c", str(config)]) == 1
    assert "already has" in capsys.readouterr().err
    assert main(["auth", "create-token", "nobody", "-c", str(config)]) == 1
    assert "no user 'nobody'" in capsys.readouterr().err
    assert main(["auth", "list-tokens", "-c", str(config)]) == 0
    listing = capsys.readouterr().out
    assert "voice  long_lived  xiaoai" in listing and token not in listing
    token_id = listing.split()[0]
    hub = await start_auth_hub(config, clock)
    try:
        auth = auth_of(hub)
        user = await auth.validate_access_token(token)
        assert user is not None and user.name == "voice"
        assert main(["auth", "revoke-token", token_id, "-c", str(config)]) == 0
        assert main(["auth", "revoke-token", token_id, "-c", str(config)]) == 1
        revoked: list[str] = []
        auth.on_revoke(revoked.append)
        await auth.sync()
        assert revoked == [token_id]
        assert await auth.validate_access_token(token) is None
    finally:
        await hub.stop(timeout=1)


def test_cli_as_a_subprocess(tmp_path: Path) -> None:
    pw = _password_file(tmp_path)
    run = [sys.executable, "-m", "shouwang.core.cli", "auth"]
    created = subprocess.run(
        [*run, "create-user", "guard1", "--role", "guard", "--password-file", str(pw), "-c", str(tmp_path)],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    token = subprocess.run(
        [*run, "create-token", "guard1", "-c", str(tmp_path)],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert token.returncode == 0 and token.stdout.count(".") == 2
    listed = subprocess.run(
        [*run, "list-tokens", "--user", "guard1", "-c", str(tmp_path)],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert "guard1  long_lived" in listed.stdout
    assert token.stdout.strip() not in listed.stdout


async def test_set_password_role_disable_enable(
    tmp_path: Path, clock: ManualClock, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path
    pw = _password_file(tmp_path)
    base = ["--password-file", str(pw), "-c", str(config)]
    assert main(["auth", "create-user", "admin", "--role", "admin", *base]) == 0
    assert main(["auth", "create-user", "li", "--role", "guard", *base]) == 0
    hub = await start_auth_hub(config, clock)
    try:
        auth = auth_of(hub)
        li = auth.user_by_name("li")
        assert li is not None
        _refresh, session = await auth.create_refresh_token(li, "http://app/")
        revoked: list[str] = []
        auth.on_revoke(revoked.append)
        capsys.readouterr()
        assert main(["auth", "disable-user", "admin", "-c", str(config)]) == 1
        assert "last active admin" in capsys.readouterr().err
        assert main(["auth", "set-role", "admin", "--role", "staff", "-c", str(config)]) == 1
        new_pw = _password_file(tmp_path, "a brand new password")
        assert (
            main(["auth", "set-password", "li", "--password-file", str(new_pw), "-c", str(config)])
            == 0
        )
        await auth.sync()
        assert li.id in revoked and await auth.validate_access_token(session) is None
        assert await auth.login("li", "a brand new password", "10.0.0.3")
        assert (
            main(
                [
                    "auth",
                    "set-role",
                    "li",
                    "--role",
                    "resident",
                    "--household",
                    "H1",
                    "-c",
                    str(config),
                ]
            )
            == 0
        )
        assert "li: resident  H1  active" in capsys.readouterr().out
        assert main(["auth", "set-role", "li", "--role", "resident", "-c", str(config)]) == 1
        assert main(["auth", "disable-user", "li", "-c", str(config)]) == 0
        revoked.clear()
        await auth.sync()
        assert revoked == [li.id]
        user = auth.get_user(li.id)
        assert user is not None and (user.role, user.households, user.is_active) == (
            "resident",
            frozenset({"H1"}),
            False,
        )
        assert main(["auth", "enable-user", "li", "-c", str(config)]) == 0
        await auth.sync()
        assert auth.get_user(li.id).is_active  # type: ignore[union-attr]
        assert (
            main(
                [
                    "auth",
                    "set-password",
                    "nobody",
                    "--password-file",
                    str(new_pw),
                    "-c",
                    str(config),
                ]
            )
            == 1
        )
    finally:
        await hub.stop(timeout=1)
