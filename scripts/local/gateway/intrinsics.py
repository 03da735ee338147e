"""CloudFormation intrinsic functions, resolved against a deployed stack.

The emulator computes no Outputs after a change set and skips some resource types (see
docs/local.md), so the local gateway reads values from the template itself: a `Ref` or
`Fn::GetAtt` becomes the deployed stack's parameter value, physical id or attribute.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

_SUB_VAR = re.compile(r"\$\{([^}]+)\}")
_NO_VALUE = {"Ref": "AWS::NoValue"}

# (logical id, resource type, attribute) -> value; supplied by whoever can read the stack.
AttributeGetter = Callable[[str, str, str], Any]


class UnresolvableError(ValueError):
    """A template expression the local gateway cannot evaluate."""


def _getatt_parts(value: Any) -> tuple[str, str]:
    if isinstance(value, str):
        logical_id, _, attribute = value.partition(".")
        return logical_id, attribute
    return value[0], value[1]


def referenced_ids(value: Any) -> set[str]:
    """Every logical id or parameter name an expression refers to (Ref, GetAtt, Sub)."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= referenced_ids(item)
    elif isinstance(value, Mapping):
        for key, arg in value.items():
            if key == "Ref" and isinstance(arg, str):
                found.add(arg)
            elif key == "Fn::GetAtt":
                found.add(_getatt_parts(arg)[0])
            elif key == "Fn::Sub":
                text = arg if isinstance(arg, str) else arg[0]
                local = set() if isinstance(arg, str) else set(arg[1])
                for name in _SUB_VAR.findall(text):
                    if not name.startswith("!"):
                        head = name.split(".", 1)[0]
                        if head not in local:
                            found.add(head)
                if not isinstance(arg, str):
                    found |= referenced_ids(arg[1])
            else:
                found |= referenced_ids(arg)
    return found


def ref_target(value: Any) -> str | None:
    """The logical id a `Ref` or `Fn::GetAtt` points at, or None for anything else."""
    if isinstance(value, Mapping) and len(value) == 1:
        if "Ref" in value:
            return value["Ref"]
        if "Fn::GetAtt" in value:
            return _getatt_parts(value["Fn::GetAtt"])[0]
    return None


@dataclass
class Resolver:
    """Evaluates template expressions with the deployed stack's values."""

    template: Mapping[str, Any]
    parameters: Mapping[str, str]
    physical_ids: Mapping[str, str]
    pseudo: Mapping[str, str]
    get_attribute: AttributeGetter | None = None
    _conditions: dict[str, bool] = field(default_factory=dict)

    @property
    def resources(self) -> Mapping[str, Any]:
        """The template's Resources section."""
        return self.template.get("Resources", {})

    def ref(self, name: str) -> Any:
        """What `Ref` gives for a pseudo parameter, parameter or resource."""
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        params = self.template.get("Parameters", {})
        if name in params and "Default" in params[name]:
            return params[name]["Default"]
        if name in self.physical_ids:
            return self.physical_ids[name]
        resource = self.resources.get(name)
        if resource is None:
            raise UnresolvableError(f"Ref to unknown name {name!r}")
        # Types the emulator does not create: their Ref is a name the template itself gives.
        props = resource.get("Properties", {})
        fallback = {"AWS::ApiGateway::Model": "Name", "AWS::ApiGateway::Stage": "StageName"}
        key = fallback.get(resource.get("Type", ""))
        if key and key in props:
            return self.resolve(props[key])
        raise UnresolvableError(f"resource {name!r} ({resource.get('Type')}) has no physical id in the stack")

    def getatt(self, logical_id: str, attribute: str) -> Any:
        """What `Fn::GetAtt` gives, read from the deployed resource."""
        resource = self.resources.get(logical_id)
        if resource is None:
            raise UnresolvableError(f"Fn::GetAtt on unknown resource {logical_id!r}")
        if self.get_attribute is None:
            raise UnresolvableError(f"cannot read {logical_id}.{attribute} without a stack")
        return self.get_attribute(logical_id, resource["Type"], attribute)

    def condition(self, name: str) -> bool:
        """The value of one of the template's Conditions."""
        if name not in self._conditions:
            self._conditions[name] = bool(self.resolve(self.template["Conditions"][name]))
        return self._conditions[name]

    def _sub(self, arg: Any) -> str:
        text, local = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in local:
                return str(self.resolve(local[name]))
            if "." in name and name.split(".", 1)[0] not in self.parameters:
                head, attribute = name.split(".", 1)
                return str(self.getatt(head, attribute))
            return str(self.ref(name))

        return _SUB_VAR.sub(replace, text)

    def resolve(self, value: Any) -> Any:
        """Evaluate an expression: literals pass through, intrinsics are computed."""
        if isinstance(value, list):
            return [self.resolve(v) for v in value if v != _NO_VALUE]
        if not isinstance(value, Mapping):
            return value
        if len(value) != 1:
            return {k: self.resolve(v) for k, v in value.items() if v != _NO_VALUE}
        (key, arg), = value.items()
        if key == "Ref":
            return self.ref(arg)
        if key == "Fn::GetAtt":
            return self.getatt(*_getatt_parts(arg))
        if key == "Fn::Sub":
            return self._sub(arg)
        if key == "Fn::Join":
            return str(arg[0]).join(str(self.resolve(v)) for v in self.resolve(arg[1]))
        if key == "Fn::Select":
            return self.resolve(arg[1])[int(self.resolve(arg[0]))]
        if key == "Fn::Split":
            return str(self.resolve(arg[1])).split(arg[0])
        if key == "Fn::If":
            return self.resolve(arg[1] if self.condition(arg[0]) else arg[2])
        if key == "Fn::Equals":
            return self.resolve(arg[0]) == self.resolve(arg[1])
        if key == "Fn::Not":
            return not self.resolve(arg[0])
        if key == "Fn::And":
            return all(self.resolve(a) for a in arg)
        if key == "Fn::Or":
            return any(self.resolve(a) for a in arg)
        if key == "Condition":
            return self.condition(arg)
        if key == "Fn::FindInMap":
            name, top, second = (self.resolve(a) for a in arg)
            return self.template["Mappings"][name][top][second]
        if key.startswith("Fn::"):
            raise UnresolvableError(f"{key} is not supported locally")
        return {key: self.resolve(arg)}
