"""The systemd units (deploy/systemd/) start exactly what `make run` starts: each ExecStart is
`Stack.commands` and each unit sets what `Stack.own_env` sets, so the two cannot drift apart.

The units name the install paths (/opt/borgerservice, its .venv and .venv-rasa) and take ports,
host and token from the example env file; the test reads them back into this checkout's paths
and settings made from that same env file.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.config import PROJECT_ROOT, load_settings
from bot.tools.runner import Stack

UNITS = PROJECT_ROOT / "deploy" / "systemd"
INSTALL = "/opt/borgerservice"
UNIT_OF = {"actions": "borger-actions", "rasa": "borger-rasa", "gateway": "borger-gateway"}
_VARIABLE = re.compile(r"\$\{(\w+)\}")


def parse_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """Sections -> key -> values (systemd allows a key more than once, e.g. Environment=)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def env_file(path: Path) -> dict[str, str]:
    values = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


EXAMPLE_ENV = env_file(UNITS / "borger.env.example")


def unit_env(service: dict[str, list[str]]) -> dict[str, str]:
    return dict(item.partition("=")[::2] for item in service.get("Environment", []))


def as_here(word: str, env: dict[str, str]) -> str:
    """A unit's word with systemd's ${VAR} expanded and the install paths made this checkout's."""
    word = _VARIABLE.sub(lambda m: env[m.group(1)], word)
    word = word.replace(f"{INSTALL}/.venv/bin/python", sys.executable)
    return word.replace(INSTALL, str(PROJECT_ROOT))


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Stack:
    for key, value in EXAMPLE_ENV.items():
        monkeypatch.setenv(key, value)
    return Stack(load_settings())


@pytest.mark.parametrize("name", sorted(UNIT_OF))
def test_exec_start_is_the_runners_command(stack: Stack, name: str) -> None:
    service = parse_unit(UNITS / f"{UNIT_OF[name]}.service")["Service"]
    [exec_start] = service["ExecStart"]
    env = {**EXAMPLE_ENV, **unit_env(service)}
    words = [as_here(word, env) for word in shlex.split(exec_start)]
    expected = stack.commands(stack.settings.var_dir / "endpoints.yml")[name]
    assert words == expected


@pytest.mark.parametrize("name", sorted(UNIT_OF))
def test_each_unit_sets_what_the_runner_sets(stack: Stack, name: str) -> None:
    service = parse_unit(UNITS / f"{UNIT_OF[name]}.service")["Service"]
    assert service["EnvironmentFile"] == ["/etc/borgerservice/borger.env"]
    env = {**EXAMPLE_ENV, **unit_env(service)}
    for key, value in stack.own_env().items():
        if key.startswith("BORGER_") and key not in env:
            continue  # unset: the process computes the same default the runner passes on
        assert as_here(env[key], env) == value, key
    assert service["WorkingDirectory"] == [INSTALL]


@pytest.mark.parametrize("name", sorted(UNIT_OF))
def test_each_unit_restarts_on_failure_with_a_start_limit(name: str) -> None:
    unit = parse_unit(UNITS / f"{UNIT_OF[name]}.service")
    assert unit["Service"]["Restart"] == ["on-failure"]
    assert float(unit["Service"]["RestartSec"][0]) >= 1
    assert int(unit["Unit"]["StartLimitBurst"][0]) >= 3
    assert int(unit["Unit"]["StartLimitIntervalSec"][0]) >= 60
    assert unit["Install"]["WantedBy"] == ["borger.target"]
    wanted = parse_unit(UNITS / "borger.target")["Unit"]["Wants"][0].split()
    assert f"{UNIT_OF[name]}.service" in wanted


def test_rasa_unit_writes_the_endpoints_file_first(stack: Stack) -> None:
    service = parse_unit(UNITS / "borger-rasa.service")["Service"]
    [pre] = service["ExecStartPre"]
    assert shlex.split(pre)[1:] == ["-m", "bot.tools.runner", "--write-endpoints"]
    endpoints = str(stack.settings.var_dir / "endpoints.yml")
    assert endpoints in as_here(service["ExecStart"][0], EXAMPLE_ENV)


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="no systemd-analyze here")
def test_systemd_analyze_accepts_the_units(tmp_path: Path) -> None:
    """systemd's own parser; the install paths are pointed at this checkout so that the
    executables it checks for exist."""
    for unit in UNITS.glob("borger*.*"):
        text = unit.read_text(encoding="utf-8")
        text = text.replace(f"{INSTALL}/.venv/bin/python", sys.executable)
        text = text.replace(INSTALL, str(PROJECT_ROOT))
        (tmp_path / unit.name).write_text(text, encoding="utf-8")
    result = subprocess.run(
        ["systemd-analyze", "verify", *sorted(str(p) for p in tmp_path.glob("*.service"))],
        capture_output=True, text=True, timeout=60,
    )
    # Allowed: this sandbox's lacks (no such user, no /etc/borgerservice) and the backoff keys
    # of systemd 254+ on an older systemd.
    allowed = re.compile(r"borger\.env|User|Group|RestartSteps|RestartMaxDelaySec")
    problems = [
        line for line in result.stderr.splitlines() if "borger" in line and not allowed.search(line)
    ]
    assert not problems, result.stderr
