"""`python -m bot staff ...` (bot/cli/staff.py), in-process against temporary SQLite files."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.core.config import PROJECT_ROOT
from bot.services.staff_auth import AuthError, identify, login
from tests.handoff_support import STAFF_PASSWORD


def run(url: str, *args: str, stdin: str = "", monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    out = io.StringIO()
    return main(["--database-url", url, "staff", *args], out=out), out.getvalue()


def test_add_list_disable_enable(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    code, output = run(
        sqlite_url, "add", "--username", "Anna", "--name", "Anna Holm", "--password-stdin",
        stdin=STAFF_PASSWORD + "\n", monkeypatch=monkeypatch,
    )
    assert (code, output) == (0, "Added staff account anna (Anna Holm).\n")
    token, _ = login(sqlite_url, "anna", STAFF_PASSWORD)
    code, output = run(sqlite_url, "list", monkeypatch=monkeypatch)
    assert code == 0 and output.startswith("anna") and "active" in output and "Anna Holm" in output

    assert run(sqlite_url, "disable", "--username", "anna", monkeypatch=monkeypatch)[0] == 0
    assert identify(sqlite_url, token) is None
    with pytest.raises(AuthError):
        login(sqlite_url, "anna", STAFF_PASSWORD)
    assert "disabled" in run(sqlite_url, "list", monkeypatch=monkeypatch)[1]
    assert run(sqlite_url, "enable", "--username", "anna", monkeypatch=monkeypatch)[0] == 0
    assert login(sqlite_url, "anna", STAFF_PASSWORD)[1].name == "Anna Holm"


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("add", "--username", "bo", "--name", "Bo", "--password-stdin"), "kort\n", "at least"),
        (("add", "--username", "b o", "--name", "Bo", "--password-stdin"), STAFF_PASSWORD, "user"),
        (("add", "--username", "bo", "--name", "Bo"), "", "--password-stdin"),
        (("disable", "--username", "nobody"), "", "No staff account"),
    ],
)
def test_bad_input_is_reported_without_traceback(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture,
    args: tuple[str, ...], stdin: str, message: str,
) -> None:
    assert run(sqlite_url, *args, stdin=stdin, monkeypatch=monkeypatch)[0] == 1
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_the_password_is_not_an_argument(sqlite_url: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--database-url", sqlite_url, "staff", "add",
         "--username", "anna", "--name", "Anna", "--password", "x"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2 and "unrecognized arguments" in result.stderr


def test_add_with_a_role_and_change_it(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    code, output = run(
        sqlite_url, "add", "--role", "editor", "--username", "erik", "--name", "Erik Berg",
        "--password-stdin", stdin=STAFF_PASSWORD + "\n", monkeypatch=monkeypatch,
    )
    assert (code, output) == (0, "Added staff account erik (Erik Berg) as editor.\n")
    assert login(sqlite_url, "erik", STAFF_PASSWORD)[1].role == "editor"
    assert "editor" in run(sqlite_url, "list", monkeypatch=monkeypatch)[1]
    code, output = run(sqlite_url, "role", "--username", "erik", "--role", "admin",
                       monkeypatch=monkeypatch)
    assert (code, output) == (0, "Staff account erik is now admin.\n")
    assert login(sqlite_url, "erik", STAFF_PASSWORD)[1].may("admin")
    with pytest.raises(SystemExit):  # argparse refuses an unknown role
        run(sqlite_url, "role", "--username", "erik", "--role", "chef", monkeypatch=monkeypatch)


def test_knowledge_import_and_export(sqlite_url: str, tmp_path: Path) -> None:
    out = io.StringIO()
    assert main(["--database-url", sqlite_url, "knowledge", "import"], out=out) == 0
    assert out.getvalue().startswith("Articles: 102 added, 0 updated")
    out = io.StringIO()
    assert main(["--database-url", sqlite_url, "knowledge", "export", "--out", str(tmp_path)],
                out=out) == 0
    assert out.getvalue() == f"Wrote 102 article(s) to {tmp_path}.\n"
    assert (tmp_path / "mitid" / "mitid-app.md").exists()
