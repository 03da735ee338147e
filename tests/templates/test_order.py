"""Resources come in dependency order: what moto's change sets need."""

from __future__ import annotations

import json
import re

import pytest

from tracking_templates.render import dependency_order

from .conftest import ENVIRONMENTS


def _referenced(resource: dict, names: set[str]) -> set[str]:
    # An independent, textual reading of references (not the generator's own walker).
    text = json.dumps(resource)
    found = set(re.findall(r'"Ref": "([^"]+)"', text))
    found |= set(re.findall(r'"Fn::GetAtt": \["([^"]+)"', text))
    found |= {m.split(".")[0] for m in re.findall(r"\$\{([A-Za-z0-9.]+)\}", text)}
    depends = resource.get("DependsOn", [])
    found |= set([depends] if isinstance(depends, str) else depends)
    return found & names


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_resource_comes_after_what_it_refers_to(env: str, templates: dict) -> None:
    # GIVEN the resources in the order the JSON lists them
    resources = templates[env]["Resources"]
    position = {name: i for i, name in enumerate(resources)}
    for name, resource in resources.items():
        # THEN everything a resource refers to is listed before it
        for dep in _referenced(resource, set(resources)) - {name}:
            assert position[dep] < position[name], f"{name} is listed before {dep}, which it refers to"


def test_deployment_comes_after_its_methods_although_sorting_would_not(dev: dict) -> None:
    names = list(dev["Resources"])
    deployment = next(n for n in names if n.startswith("ApiDeployment"))
    assert sorted(names).index(deployment) < sorted(names).index("TrackPostMethod"), "the trap this order avoids"
    assert names.index(deployment) > names.index("TrackPostMethod")


def test_order_breaks_ties_by_logical_id_and_follows_sub_and_depends_on() -> None:
    resources = {
        "C": {"Type": "T", "Properties": {"X": {"Fn::Sub": "${B.Arn}-${AWS::Region}-${!Literal}"}}},
        "B": {"Type": "T", "DependsOn": "A"},
        "A": {"Type": "T", "Properties": {"Y": {"Fn::Sub": ["${V}", {"V": {"Ref": "Param"}}]}}},
        "D": {"Type": "T"},
    }
    assert dependency_order(resources) == ["A", "B", "C", "D"]


def test_a_cycle_is_an_error() -> None:
    resources = {"A": {"Properties": {"X": {"Ref": "B"}}}, "B": {"Properties": {"X": {"Fn::GetAtt": ["A", "Arn"]}}}}
    with pytest.raises(ValueError, match=r"^dependency cycle: (A -> B -> A|B -> A -> B)$"):
        dependency_order(resources)
