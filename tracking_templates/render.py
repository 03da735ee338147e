"""Deterministic text of a template: JSON or YAML with resources in dependency order."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from json.encoder import encode_basestring

from troposphere import BaseAWSObject, Template

# Top-level sections in the order AWS documents them.
SECTIONS = ("AWSTemplateFormatVersion", "Description", "Metadata", "Parameters", "Mappings", "Conditions",
            "Resources", "Outputs")
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
    """Logical ids, each after everything it depends on; ties broken by logical id."""
    graph = dependencies(resources)
    waiting = {name: len(deps) for name, deps in graph.items()}
    dependents: dict[str, list[str]] = {name: [] for name in graph}
    for name, deps in graph.items():
        for dep in deps:
            dependents[dep].append(name)
    ready = {name for name, count in waiting.items() if count == 0}
    order: list[str] = []
    while ready:
        # min() of a few ready ids among a few dozen resources: no heap (nor heapq's import) needed.
        name = min(ready)
        ready.remove(name)
        order.append(name)
        for dependent in dependents[name]:
            waiting[dependent] -= 1
            if waiting[dependent] == 0:
                ready.add(dependent)
    if len(order) != len(graph):
        cycle = sorted(name for name, count in waiting.items() if count)
        raise ValueError(f"dependency cycle among {cycle}")
    return order


# The Template attribute holding each section (Template.to_dict's own names).
_SECTION_ATTRIBUTES = {"AWSTemplateFormatVersion": "version", "Description": "description", "Metadata": "metadata",
                       "Parameters": "parameters", "Mappings": "mappings", "Conditions": "conditions",
                       "Resources": "resources", "Outputs": "outputs"}
_JSON_SCALARS = frozenset((str, int, float, bool, type(None)))


def _data(value: object) -> object:
    """`value` as JSON data, as troposphere's encode_to_dict makes it, in one walk.

    troposphere's to_dict validates an object, and encode_to_dict then walks the dict it
    returned again, at every level of nesting: 4,000 calls for a few hundred objects, 1.5 ms.
    Here each object is validated the same way (required properties, then its validate())
    and walked once. Objects with their own to_dict (helpers, Tags...) still use it.
    """
    if type(value) in _JSON_SCALARS:
        return value
    if isinstance(value, BaseAWSObject) and type(value).to_dict is BaseAWSObject.to_dict:
        if value.do_validation:
            value._validate_props()
            value.validate()
        if value.properties:
            return _data(value.resource)
        if getattr(value, "resource_type", None) is not None:
            return {key: _data(item) for key, item in value.resource.items() if key != "Properties"}
        return {}
    if hasattr(value, "to_dict"):
        return _data(value.to_dict())
    if isinstance(value, (list, tuple)):
        return [_data(item) for item in value]
    if isinstance(value, dict):
        return {key: _data(item) for key, item in value.items()}
    if hasattr(value, "JSONrepr"):
        return _data(value.JSONrepr())
    return value


class _InOrder(dict):
    """A mapping whose keys are written in this order (every other mapping's keys are sorted)."""


def _layout(template: Template) -> _InOrder:
    """The template as plain data: sections in AWS's order, resources in dependency order (the
    mappings below them as troposphere made them)."""
    sections = {section: getattr(template, attribute) for section, attribute in _SECTION_ATTRIBUTES.items()}
    out = _InOrder((section, _data(sections[section])) for section in SECTIONS
                   if sections[section] or section == "Resources")
    resources = out["Resources"]
    out["Resources"] = _InOrder((name, resources[name]) for name in dependency_order(resources))
    return out


def _sorted(value: object) -> object:
    if isinstance(value, Mapping):
        keys = value if isinstance(value, _InOrder) else sorted(value)
        return {key: _sorted(value[key]) for key in keys}
    if isinstance(value, (list, tuple)):
        return [_sorted(item) for item in value]
    return value


def ordered(template: Template) -> dict:
    """The template as plain data: sections in AWS's order, resources in dependency order,
    every other mapping's keys sorted."""
    return _sorted(_layout(template))  # type: ignore[return-value]


def _write_json(value: object, write: Callable[[str], object], newline: str) -> None:
    # What json.dumps(indent=1, ensure_ascii=False) writes, keys sorted unless _InOrder, in one
    # pass: json's own indenting encoder is pure Python generators, and sorting first copied
    # the whole template; together they took 2 ms of the 4 ms a render took.
    if isinstance(value, str):
        write(encode_basestring(value))
    elif isinstance(value, dict):
        if not value:
            write("{}")
            return
        inner, separator = newline + " ", "{"
        for key in value if isinstance(value, _InOrder) else sorted(value):
            if not isinstance(key, str):
                raise TypeError(f"mapping keys must be strings, not {key!r}")
            write(f"{separator}{inner}{encode_basestring(key)}: ")
            _write_json(value[key], write, inner)
            separator = ","
        write(newline + "}")
    elif isinstance(value, (list, tuple)):
        if not value:
            write("[]")
            return
        inner, separator = newline + " ", "["
        for item in value:
            write(separator + inner)
            _write_json(item, write, inner)
            separator = ","
        write(newline + "]")
    elif value is None or isinstance(value, (bool, int, float)):
        write(json.dumps(value))
    else:
        raise TypeError(f"{type(value).__name__} is not JSON data: {value!r}")


def to_json(template: Template) -> str:
    """JSON text, byte-identical for the same template."""
    # indent=1: one value per line for readable diffs, ~10 KB under the 51,200-byte TemplateBody
    # limit (indent=2 sits at its edge), so a deploy needs no S3 round trip for the template.
    pieces: list[str] = []
    _write_json(_layout(template), pieces.append, "\n")
    return "".join(pieces) + "\n"


def to_yaml(template: Template) -> str:
    """YAML text (long-form intrinsic functions), in the same order as the JSON."""
    import yaml  # only this format needs it

    return yaml.safe_dump(ordered(template), sort_keys=False, default_flow_style=False, allow_unicode=True, width=120)
