"""The docs stay inside the repository: every link in README.md and docs/ points at a file of
this repository (example URLs in code are content, not links)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.core.config import PROJECT_ROOT

DOCS = sorted([PROJECT_ROOT / "README.md", *(PROJECT_ROOT / "docs").glob("*.md")])
_CODE = re.compile(r"```.*?```|`[^`\n]*`", re.DOTALL)
_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_AUTOLINK = re.compile(r"<(https?://[^>]+)>|(?<![(\w/])(https?://\S+)")


def links(path: Path) -> list[str]:
    prose = _CODE.sub("", path.read_text(encoding="utf-8"))
    found = [m.group(1) for m in _LINK.finditer(prose)]
    found += [a or b for a, b in _AUTOLINK.findall(prose)]
    return found


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_links_point_into_the_repository(path: Path) -> None:
    for target in links(path):
        assert "://" not in target and not target.startswith("mailto:"), f"{path}: {target}"
        resolved = (path.parent / target.split("#")[0]).resolve()
        assert resolved.is_relative_to(PROJECT_ROOT), f"{path}: {target} leaves the repository"
        assert resolved.exists(), f"{path}: {target} does not exist"


def test_there_is_an_architecture_page() -> None:
    text = (PROJECT_ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    for heading in ("## Processes", "## Packages", "## One citizen message", "## One handoff"):
        assert heading in text
