"""The README is part of the interface: its Quick start, its diagram and its links must hold."""

from __future__ import annotations

import re
from pathlib import Path

from tracking_templates.cli import render

REPO_ROOT = Path(__file__).resolve().parent.parent
README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", README, re.S | re.M)
    assert match, f"README has no '## {title}' section"
    return match.group(1)


def test_quick_start_is_exactly_two_commands_template_then_tests() -> None:
    # GIVEN the Quick start's first fenced block
    block = re.search(r"```[a-z]*\n(.*?)```", _section("Quick start"), re.S).group(1)
    # WHEN its commands are read (comments and blank lines are not commands)
    commands = [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    # THEN there are two: the first writes the template, the second runs the tests
    assert len(commands) == 2
    assert "python -m tracking_templates" in commands[0] and "build/template.json" in commands[0]
    assert "pytest" in commands[1] and ".[dev]" in commands[1]


def test_readme_diagram_is_the_generated_one() -> None:
    # GIVEN the README's Mermaid block
    block = re.search(r"```mermaid\n(.*?)```", README, re.S).group(1)
    # WHEN the diagram is generated from the template
    generated = render("dev", "mermaid")
    # THEN they are the same (regenerate with --format mermaid and paste it in)
    assert block.strip() == generated.strip()


def test_every_relative_link_points_at_a_file() -> None:
    # GIVEN every relative Markdown link in the README
    targets = {link.split("#")[0] for link in re.findall(r"\]\(([^)#:]+(?:#[^)]*)?)\)", README)}
    # THEN each names a file in the repository
    missing = sorted(t for t in targets if t and not (REPO_ROOT / t).exists())
    assert not missing, f"README links to missing files: {missing}"
