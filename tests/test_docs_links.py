"""docs/*.md are read on GitHub: every relative link must point at a file of the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted((REPO_ROOT / "docs").glob("*.md"))


@pytest.mark.parametrize("page", DOCS, ids=[p.name for p in DOCS])
def test_every_relative_link_of_a_doc_points_at_a_file(page: Path) -> None:
    links = re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8"))
    missing = sorted({link for link in links if not (page.parent / link).exists()})
    assert not missing, f"{page.name} links to missing files: {missing}"


@pytest.mark.parametrize("page", DOCS, ids=[p.name for p in DOCS])
def test_no_doc_sends_the_reader_outside_the_repository_for_its_method(page: Path) -> None:
    # the benchmarks' method was once only in a file outside the repository (BENCHMARKS.md)
    assert "BENCHMARKS.md" not in page.read_text(encoding="utf-8")
