"""Deterministic text of a template: JSON or YAML with resources in dependency order."""

from __future__ import annotations

import heapq
import json
import re
from collections.abc import Mapping
from graphlib import CycleError, TopologicalSorter

from troposphere import Template

# Top-level sections in the order AWS documents them.
SECTIONS = ("AWSTemplateFormatVersion", "Description", "Metadata", "Parameters", "Rules", "Mappings",
            "Conditions", "Transform", "Resources", "Outputs")
_SUB_NAME = re.compile(r"\$\{([^!}][^}]*)\}")


def _add_names_in(value: object, names: set[str]) -> None:
    """Add every logical name (resource or parameter) that `value` refers to."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" and isinstance(item, str):
                names.add(item)
            elif key == "Fn::GetAtt":
                names.add(item[0] if isinstance(item, list) else item.split(".", 1)[0])
            elif key == "Fn::Sub":
                text, variables = (item, {}) if isinstance(item, str) else (item[0], item[1])
                for name in _SUB_NAME.findall(text):
                    name = name.split(".", 1)[0]
                    if name not in variables:
                        names.add(name)
                _add_names_in(variables, names)
            else:
                _add_names_in(item, names)
    elif isinstance(value, list):
        for item in value:
            _add_names_in(item, names)


def dependencies(resources: Mapping[str, Mapping]) -> dict[str, set[str]]:
    """Each resource's direct dependencies: references (Ref, GetAtt, Sub) and DependsOn."""
    graph: dict[str, set[str]] = {}
    for logical_id, resource in resources.items():
        names: set[str] = set()
        for key, value in resource.items():
            if key == "DependsOn":
                names.update([value] if isinstance(value, str) else value)
            else:
                _add_names_in(value, names)
        graph[logical_id] = {name for name in names if name in resources and name != logical_id}
    return graph


def dependency_order(resources: Mapping[str, Mapping]) -> list[str]:
    """Logical ids, each after everything it depends on; of those ready, the least id first."""
    sorter = TopologicalSorter(dependencies(resources))
    try:
        sorter.prepare()
    except CycleError as error:
        raise ValueError(f"dependency cycle: {' -> '.join(error.args[1])}") from None
    # Always the least ready id (not whole batches): a resource follows its dependencies closely.
    ready = sorted(sorter.get_ready())
    order: list[str] = []
    while ready:
        name = heapq.heappop(ready)
        order.append(name)
        sorter.done(name)
        for dependent in sorter.get_ready():
            heapq.heappush(ready, dependent)
    return order


def _sorted_keys(value: object) -> object:
    if isinstance(value, dict):
        return {key: _sorted_keys(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted_keys(item) for item in value]
    return value


def ordered(template: Template) -> dict:
    """The template as plain data (troposphere's, validated): sections in AWS's order, resources
    in dependency order, every other mapping's keys sorted."""
    data = _sorted_keys(template.to_dict())
    resources = data["Resources"]
    data["Resources"] = {name: resources[name] for name in dependency_order(resources)}
    return {section: data[section] for section in SECTIONS if section in data}


def to_json(template: Template) -> str:
    """JSON text, byte-identical for the same template."""
    # indent=1: one value per line for readable diffs. Since the releases' resources (issue 18) the
    # text is ~60 KB, over the 51,200-byte TemplateBody limit: the deploy sends it by TemplateURL.
    return json.dumps(ordered(template), indent=1, ensure_ascii=False) + "\n"


def to_yaml(template: Template) -> str:
    """YAML text (long-form intrinsic functions), in the same order as the JSON."""
    import yaml  # only this format needs it

    return yaml.safe_dump(ordered(template), sort_keys=False, default_flow_style=False, allow_unicode=True, width=120)
