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


def _profile_rows() -> dict[str, list[str]]:
    """docs/templates.md's table of the built-in profiles: setting -> [dev, staging, prod] cells."""
    text = (REPO_ROOT / "docs" / "templates.md").read_text(encoding="utf-8")
    section = text.split("## How environments differ\n", 1)[1].split("\n## ", 1)[0]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in section.splitlines() if line.startswith("| ")]
    return {row[0]: row[1:] for row in rows[2:]}  # past the header and its rule


def test_the_profiles_table_is_what_the_settings_say() -> None:
    # The one copy of this table (the README's disagreed with it: no listing shards); its
    # figures must be the settings' own.
    from tracking_templates import settings_for

    rows = _profile_rows()
    profiles = [settings_for(env) for env in ("dev", "staging", "prod")]

    def row(prefix: str) -> list[str]:
        (found,) = [cells for setting, cells in rows.items() if setting.startswith(prefix)]
        return found

    assert row("listing shards per status") == [str(s.listing_shards) for s in profiles]
    assert row("log retention") == [f"{s.log_retention_days} days" for s in profiles]
    assert row("API function reserved concurrency") == [str(s.api_function.reserved_concurrency) for s in profiles]
    assert row("stage throttling") == [f"{s.throttle_rate_limit} / {s.throttle_burst_limit}" for s in profiles]
    assert row("API function memory / timeout") == [
        f"{s.api_function.memory_mb} MB / {s.api_function.timeout_s} s" for s in profiles]
    assert row("`LOG_LEVEL`") == [s.api_function.log_level for s in profiles]


def test_the_readme_names_every_console_script() -> None:
    # The console scripts were installed but listed nowhere a newcomer reads.
    import configparser

    config = configparser.ConfigParser()
    config.read(REPO_ROOT / "setup.cfg", encoding="utf-8")
    scripts = [line.split("=")[0].strip() for line in config["options.entry_points"]["console_scripts"].splitlines()
               if line.strip()]
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert len(scripts) >= 6
    assert [name for name in scripts if f"`{name}`" not in readme] == []
