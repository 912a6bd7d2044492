"""Restart a crashed process of the stack with backoff, so one crash is not an outage.

`RestartPolicy` and `CrashHistory` are the decision alone (pure, no processes, no clock of
their own): how long to wait before the next start, and when to give up. `Supervisor` applies
them to a running `Stack` (bot/tools/runner.py): `make run` loops over `Supervisor.step`, the
kill tests (tests/test_resilience_live.py) run the same loop in a thread.

The delays double from the first (1 s, 2 s, 4 s ... up to the cap), because a process that
dies at once again would otherwise spin; a process that stayed up for `stable_seconds` starts
the count afresh, because that crash is news, not the same fault again. After `max_fast_crashes`
crashes in a row without such a stable run the fault is not going away by itself: the runner
gives up, loudly, instead of restarting for ever.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from bot.core.config import Settings
    from bot.tools.runner import Stack


@dataclass(frozen=True)
class RestartPolicy:
    initial_delay: float = 1.0
    max_delay: float = 30.0
    stable_seconds: float = 120.0
    max_fast_crashes: int = 10

    @classmethod
    def from_settings(cls, settings: Settings) -> RestartPolicy:
        return cls(
            initial_delay=settings.restart_delay_seconds,
            max_delay=settings.restart_max_delay_seconds,
            stable_seconds=settings.restart_stable_seconds,
            max_fast_crashes=settings.restart_max_fast_crashes,
        )

    def delay(self, fast_crashes: int) -> float:
        """The wait before the next start after the ``fast_crashes``-th crash in a row."""
        exponent = max(fast_crashes - 1, 0)
        # min() before the power would be enough for the cap, but 2**exponent alone can
        # overflow a float after a few thousand crashes with max_fast_crashes off.
        return min(self.initial_delay * 2 ** min(exponent, 60), self.max_delay)


@dataclass(frozen=True)
class Decision:
    restart: bool
    delay: float
    fast_crashes: int
    uptime: float


@dataclass
class CrashHistory:
    """One process's crashes in a row; ``crashed`` says what to do about the latest."""

    policy: RestartPolicy
    fast_crashes: int = 0

    def crashed(self, started_at: float, exited_at: float) -> Decision:
        uptime = max(exited_at - started_at, 0.0)
        if uptime >= self.policy.stable_seconds:
            self.fast_crashes = 0
        self.fast_crashes += 1
        give_up = 0 < self.policy.max_fast_crashes < self.fast_crashes
        return Decision(
            restart=not give_up,
            delay=0.0 if give_up else self.policy.delay(self.fast_crashes),
            fast_crashes=self.fast_crashes,
            uptime=uptime,
        )


class GaveUp(RuntimeError):
    """A process kept crashing right after its start; the message says which and how often."""


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(-returncode).name}"
        return f"was killed by signal {-returncode}"
    return f"exited with code {returncode}"


@dataclass
class _Watched:
    process: subprocess.Popen
    started_at: float
    history: CrashHistory
    restart_at: float | None = None  # set while waiting out the backoff


@dataclass
class Supervisor:
    """Watch the processes `stack` started; restart each one that exits on its own.

    A process taken out with ``stack.stop_one`` (it leaves ``stack.processes``) is not
    restarted: that was a decision, not a crash. ``restarts`` counts the restarts per name, so a
    caller can wait for one.
    """

    stack: Stack
    policy: RestartPolicy = field(default_factory=RestartPolicy)
    out: TextIO = field(default_factory=lambda: sys.stderr)
    clock: Callable[[], float] = time.monotonic
    restarts: dict[str, int] = field(default_factory=dict)
    _watched: dict[str, _Watched] = field(default_factory=dict)

    def _say(self, text: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] runner: {text}", file=self.out, flush=True)

    def step(self) -> None:
        """Look at every process once: note new ones, schedule or do restarts. Raises GaveUp."""
        now = self.clock()
        for name, process in list(self.stack.processes.items()):
            watched = self._watched.get(name)
            if watched is None or watched.process is not process:
                # Started by someone else (the first start, a test's restart): watch it afresh,
                # keeping the crash count of that name.
                history = watched.history if watched else CrashHistory(self.policy)
                watched = self._watched[name] = _Watched(process, now, history)
            if watched.restart_at is None:
                if process.poll() is None:
                    continue
                decision = watched.history.crashed(watched.started_at, now)
                reason = describe_exit(process.returncode)
                if not decision.restart:
                    raise GaveUp(
                        f"{name} {reason}: {decision.fast_crashes} crashes in a row, each "
                        f"within {self.policy.stable_seconds:.0f} s of its start, so "
                        "restarting it does not help. See its output above."
                    )
                limit = self.policy.max_fast_crashes
                self._say(
                    f"{name} {reason} after {decision.uptime:.0f} s; restarting it in "
                    f"{decision.delay:g} s (crash {decision.fast_crashes} in a row, "
                    + (f"giving up after {limit})" if limit else "never giving up)")
                )
                _kill_leftovers(process)
                watched.restart_at = now + decision.delay
            if now >= watched.restart_at and self.stack.processes.get(name) is process:
                self.stack.start(only=(name,))
                new = self.stack.processes[name]
                self._watched[name] = _Watched(new, self.clock(), watched.history)
                self.restarts[name] = self.restarts.get(name, 0) + 1
                self._say(f"{name} restarted (pid {new.pid})")
        for name in set(self._watched) - set(self.stack.processes):
            del self._watched[name]  # stopped on purpose


def _kill_leftovers(process: subprocess.Popen) -> None:
    """The process group of a crashed process, in case only its leader died (OOM killer):
    a worker left behind would keep the port, and the restarted process could not bind it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


class SupervisorThread:
    """`Supervisor.step` in a background thread (the kill tests; `make run` loops itself,
    bot/tools/runner.py `_supervise`).

    ``held()`` pauses it, so that a test can look at the outage it caused for as long as it
    needs, instead of racing the restart.
    """

    def __init__(self, supervisor: Supervisor, interval: float = 0.2) -> None:
        self.supervisor = supervisor
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._hold = threading.Lock()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)

    def _run(self, interval: float) -> None:
        try:
            while not self._stop.is_set():
                with self._hold:
                    self.supervisor.step()
                time.sleep(interval)
        except BaseException as exc:  # noqa: BLE001 - handed to whoever joins the thread
            self.error = exc

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        with self._hold:
            yield

    def start(self) -> SupervisorThread:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)
        if self.error is not None:
            raise self.error
