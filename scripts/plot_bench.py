"""Draw `make bench`'s latency against concurrency: gateway and plain Rasa, p50 and p95.

Run by bot/tools/bench.py with the Rasa environment's Python, which ships matplotlib; so it
reads only the JSON the benchmark wrote and imports nothing of the project.
Usage: plot_bench.py bench.json latency.png
"""

from __future__ import annotations

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - after choosing the file-only backend

LABELS = {"gateway": "gateway (/api/chat)", "rasa": "Rasa alone (REST webhook)"}


def main(source: str, target: str) -> int:
    with open(source, encoding="utf-8") as handle:
        rows = json.load(handle)["rows"]
    figure, axes = plt.subplots(figsize=(7, 4.2), dpi=120)
    for name, label in LABELS.items():
        mine = sorted((r for r in rows if r["target"] == name), key=lambda r: r["concurrency"])
        if not mine:
            continue
        x = [r["concurrency"] for r in mine]
        line = axes.plot(x, [r["p50_ms"] for r in mine], marker="o", label=f"{label}, p50")[0]
        axes.plot(
            x, [r["p95_ms"] for r in mine], marker="s", linestyle="--",
            color=line.get_color(), label=f"{label}, p95",
        )
    axes.set_xlabel("concurrent conversations")
    axes.set_ylabel("latency per turn (ms)")
    axes.set_title("Borgerservice-assistenten: latency against concurrency")
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(target)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:3]))
