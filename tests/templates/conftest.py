"""Templates of every profiled environment, generated once per session."""

from __future__ import annotations

import json

import pytest

from tracking_templates.render import to_json
from tracking_templates.settings import settings_for
from tracking_templates.template import build_template

ENVIRONMENTS = ("dev", "staging", "prod")


@pytest.fixture(scope="session")
def rendered() -> dict[str, str]:
    """env -> the template's JSON text."""
    return {env: to_json(build_template(settings_for(env))) for env in ENVIRONMENTS}


@pytest.fixture(scope="session")
def templates(rendered: dict[str, str]) -> dict[str, dict]:
    """env -> the template as data."""
    return {env: json.loads(text) for env, text in rendered.items()}


@pytest.fixture(scope="session")
def dev(templates: dict[str, dict]) -> dict:
    """The dev template as data."""
    return templates["dev"]


def resources_of_type(template: dict, resource_type: str) -> dict[str, dict]:
    """logical id -> resource, for every resource of this type."""
    return {name: res for name, res in template["Resources"].items() if res["Type"] == resource_type}


def only(template: dict, resource_type: str) -> dict:
    """The one resource of this type (fails if there are more or none)."""
    found = resources_of_type(template, resource_type)
    assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
    return next(iter(found.values()))
