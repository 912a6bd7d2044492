"""`make bench`'s arithmetic and its plot, without starting a stack."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.core.config import load_settings
from bot.tools.bench import Figures, figures, plot, table


def test_figures_take_the_median_and_the_95th_percentile() -> None:
    seconds = [i / 1000 for i in range(1, 101)]  # 1 … 100 ms
    f = figures("gateway", 5, seconds, wall=2.0)
    assert (f.turns, f.p50_ms, f.p95_ms, f.throughput) == (100, 50.5, 95.0, 50.0)


def _rows() -> list[Figures]:
    return [
        Figures("gateway", 1, 10, 44.0, 60.0, 20.0),
        Figures("rasa", 1, 10, 40.0, 55.0, 22.0),
        Figures("gateway", 20, 200, 300.0, 450.0, 40.0),
    ]


def test_the_table_shows_the_gateway_overhead_over_rasa() -> None:
    lines = table(_rows()).splitlines()
    assert lines[2] == "| 1 | 44 ms | 60 ms | 20.0 | 40 ms | 55 ms | 22.0 | +4 ms |"
    assert lines[3] == "| 20 | 300 ms | 450 ms | 40.0 | – | – | – | – |"


@pytest.mark.slow
def test_the_plot_is_a_png(tmp_path: Path) -> None:
    python = load_settings().rasa_python
    if not python.exists():
        pytest.fail(f"no Rasa environment at {python}: run 'make install'")
    target = tmp_path / "latency.png"
    report = {"rows": [r.__dict__ for r in _rows()]}
    assert plot(report, target, python)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads(target.with_suffix(".json").read_text())["rows"][0]["target"] == "gateway"


def test_the_profile_counts_samples_by_category_and_drops_waiting() -> None:
    from bot.tools.profile import CATEGORIES, summarise

    raw = "\n".join(
        [
            "main (x.py:1);handle_message (rasa/core/processor.py:9);"
            "predict (rasa/core/policies/ted_policy.py:5) 30",
            "main (x.py:1);parse (rasa/nlu/classifiers/diet_classifier.py:2) 10",
            "main (x.py:1);serve (sanic/server/runners.py:155) 500",
            "main (x.py:1);json (json/encoder.py:3) 5",
        ]
    )
    assert summarise(raw, CATEGORIES["rasa"]) == {
        "policy: TED": 30,
        "NLU: DIET, featurizers, tokenizer": 10,
        "other": 5,
    }
