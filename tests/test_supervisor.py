"""The runner's restart policy (bot/tools/supervisor.py): the decision alone, then `Supervisor`
on real short-lived processes (no Rasa) through the `Stack` API `make run` uses."""

from __future__ import annotations

import io
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.core.config import load_settings
from bot.tools.runner import Stack, _supervise
from bot.tools.supervisor import (
    CrashHistory,
    GaveUp,
    RestartPolicy,
    Supervisor,
    describe_exit,
)
from tests.fixtures_db import free_port

POLICY = RestartPolicy(initial_delay=1, max_delay=30, stable_seconds=120, max_fast_crashes=10)


def test_delays_double_from_the_first_up_to_the_cap() -> None:
    assert [POLICY.delay(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 30, 30, 30]
    assert POLICY.delay(10_000) == 30  # no overflow with giving up turned off


def test_fast_crashes_back_off_and_a_stable_run_starts_afresh() -> None:
    history = CrashHistory(POLICY)
    delays = [history.crashed(started_at=t, exited_at=t + 5).delay for t in range(0, 400, 100)]
    assert delays == [1, 2, 4, 8]
    # Up for longer than stable_seconds: this crash is news, not the same fault again.
    decision = history.crashed(started_at=1000, exited_at=1000 + 121)
    assert decision.restart and decision.delay == 1 and decision.fast_crashes == 1
    assert decision.uptime == 121


def test_gives_up_after_max_fast_crashes_in_a_row() -> None:
    history = CrashHistory(POLICY)
    decisions = [history.crashed(0, 1) for _ in range(11)]
    assert all(d.restart for d in decisions[:10])
    assert not decisions[10].restart and decisions[10].fast_crashes == 11


def test_zero_means_never_give_up() -> None:
    history = CrashHistory(RestartPolicy(max_fast_crashes=0))
    assert all(history.crashed(0, 1).restart for _ in range(1000))


@pytest.mark.parametrize(
    ("returncode", "words"),
    [(1, "exited with code 1"), (-9, "was killed by SIGKILL"), (-15, "was killed by SIGTERM")],
)
def test_exits_are_described_in_words(returncode: int, words: str) -> None:
    assert describe_exit(returncode) == words


class ToyStack(Stack):
    """The real Stack (start, stop_one, processes, process groups) on toy commands."""

    def __init__(self, tmp_path: Path, commands: dict[str, list[str]], **settings: object) -> None:
        # A free gateway port: healthy() must not find someone else's gateway on 8000.
        settings = {"var_dir": tmp_path, "gateway_port": free_port(), **settings}
        super().__init__(load_settings(**settings), log_dir=tmp_path / "logs")
        self.toy = commands

    def start(self, only: tuple[str, ...] | None = None) -> None:
        super().start(only=only or tuple(self.toy))

    def commands(self, endpoints: Path) -> dict[str, list[str]]:
        return self.toy


def supervise_until(supervisor: Supervisor, done, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "supervisor did not get there"
        supervisor.step()
        time.sleep(0.02)


FAST = RestartPolicy(initial_delay=0.05, max_delay=0.2, stable_seconds=60, max_fast_crashes=3)
SLEEP = [sys.executable, "-c", "import time; time.sleep(60)"]
CRASH = [sys.executable, "-c", "raise SystemExit(3)"]


def test_a_killed_process_is_restarted_and_the_others_are_left_alone(tmp_path: Path) -> None:
    stack = ToyStack(tmp_path, {"a": SLEEP, "b": SLEEP})
    out = io.StringIO()
    supervisor = Supervisor(stack, FAST, out=out)
    stack.start()
    try:
        supervisor.step()
        first_a, first_b = stack.processes["a"], stack.processes["b"]
        first_a.kill()
        supervise_until(supervisor, lambda: supervisor.restarts.get("a") == 1)
        assert stack.processes["a"] is not first_a and stack.processes["a"].poll() is None
        assert stack.processes["b"] is first_b and "b" not in supervisor.restarts
        log = out.getvalue()
        assert "a was killed by SIGKILL" in log and "restarting it in" in log
        assert f"a restarted (pid {stack.processes['a'].pid})" in log
    finally:
        stack.stop()


def test_stopping_one_on_purpose_is_no_crash(tmp_path: Path) -> None:
    stack = ToyStack(tmp_path, {"a": SLEEP})
    supervisor = Supervisor(stack, FAST, out=io.StringIO())
    stack.start()
    try:
        supervisor.step()
        stack.stop_one("a")
        for _ in range(10):
            supervisor.step()
            time.sleep(0.02)
        assert "a" not in stack.processes and supervisor.restarts == {}
        stack.start(only=("a",))  # and a later start by hand is watched again
        supervisor.step()
        stack.processes["a"].kill()
        supervise_until(supervisor, lambda: supervisor.restarts.get("a") == 1)
    finally:
        stack.stop()


def test_a_process_that_keeps_crashing_is_given_up_on(tmp_path: Path) -> None:
    stack = ToyStack(tmp_path, {"bad": CRASH})
    out = io.StringIO()
    supervisor = Supervisor(stack, FAST, out=out)
    stack.start()
    try:
        with pytest.raises(GaveUp, match="bad exited with code 3: 4 crashes in a row"):
            supervise_until(supervisor, lambda: False)
        assert supervisor.restarts["bad"] == 3
        assert "crash 3 in a row, giving up after 3" in out.getvalue()
    finally:
        stack.stop()


@pytest.mark.slow
def test_the_runner_stops_everything_with_a_message_when_it_gives_up(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = ToyStack(
        tmp_path, {"bad": CRASH, "good": SLEEP},
        restart_delay_seconds=0.05, restart_max_delay_seconds=0.1, restart_max_fast_crashes=2,
    )
    stack.start()
    try:
        assert _supervise(stack, lambda: False) == 1
        good = stack.processes["good"]
        assert good.poll() is None  # still up: stopping it is main()'s `finally`
    finally:
        stack.stop()
    assert good.poll() is not None
    err = capsys.readouterr().err
    assert "Stopping everything: bad exited with code 3: 3 crashes in a row" in err
    assert err.count("bad restarted") == 2


def test_the_policy_comes_from_the_settings() -> None:
    settings = load_settings(
        restart_delay_seconds=2, restart_max_delay_seconds=60, restart_stable_seconds=300,
        restart_max_fast_crashes=5,
    )
    assert RestartPolicy.from_settings(settings) == RestartPolicy(2, 60, 300, 5)
    assert RestartPolicy.from_settings(load_settings()) == POLICY


@pytest.mark.slow
def test_runner_writes_the_endpoints_file_for_systemd(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.tools.runner", "--write-endpoints"],
        env={"BORGER_VAR_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=60, check=True,
    )
    path = Path(result.stdout.strip())
    assert path == tmp_path / "endpoints.yml"
    assert "tracker_store" in path.read_text(encoding="utf-8")
