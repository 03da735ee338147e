"""A template to deploy: its text, what it declares, what it needs, and CloudFormation's limits."""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import stat
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import UsageError

# CloudFormation's limits: TemplateBody up to 51,200 bytes; through S3 (TemplateURL) up to 1 MB.
TEMPLATE_BODY_LIMIT = 51_200
TEMPLATE_URL_LIMIT = 1_048_576

IAM_TYPES = frozenset(
    {
        "AWS::IAM::AccessKey", "AWS::IAM::Group", "AWS::IAM::GroupPolicy",
        "AWS::IAM::InstanceProfile", "AWS::IAM::ManagedPolicy", "AWS::IAM::Policy",
        "AWS::IAM::Role", "AWS::IAM::RolePolicy", "AWS::IAM::User", "AWS::IAM::UserPolicy",
        "AWS::IAM::UserToGroupAddition",
    }
)  # fmt: skip
# Properties that give an IAM resource a custom name: then CAPABILITY_NAMED_IAM is required.
IAM_NAME_PROPERTIES = frozenset(
    {"RoleName", "UserName", "GroupName", "ManagedPolicyName", "InstanceProfileName"}
)
# What a template cannot show us: a transform (SAM...) or macro expands into resources we never
# see, and a nested stack's template is elsewhere. CloudFormation then needs all three
# (SAM: IAM + AUTO_EXPAND; nested stacks: whatever their templates hold), as CDK passes them.
ALL_CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
OPAQUE_TYPES = frozenset({"AWS::CloudFormation::Macro", "AWS::CloudFormation::Stack"})


class _CfnYamlLoader(yaml.SafeLoader):
    """YAML loader that reads CloudFormation short forms (!Ref, !Sub...) as plain values."""


def _short_form(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    # Not deep: PyYAML fills nested collections before the document is returned.
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node)
    else:
        value = loader.construct_mapping(node)  # type: ignore[arg-type]
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    return {name: value}


_CfnYamlLoader.add_multi_constructor("!", _short_form)


def _one_line(error: yaml.YAMLError) -> str:
    """PyYAML's multi-line report as one line: the problem and where it is."""
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    mark = getattr(error, "problem_mark", None)
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
    return f"{problem}{where}"


@dataclass(frozen=True)
class StackTemplate:
    """Template text plus its parsed document."""

    body: str
    document: dict[str, Any] = field(repr=False)

    @classmethod
    def from_text(cls, body: str, origin: str = "template") -> StackTemplate:
        """Parse JSON or YAML text; refuse what CloudFormation would refuse for size."""
        size = len(body.encode("utf-8"))
        if size > TEMPLATE_URL_LIMIT:
            raise UsageError(
                f"{origin} is {size:,} bytes; CloudFormation accepts at most "
                f"{TEMPLATE_URL_LIMIT:,} bytes (1 MB) even through S3"
            )
        try:
            document = _parse(body, origin)
        except RecursionError:  # both parsers recurse once per level of nesting
            raise UsageError(f"{origin} is nested too deeply to be a template") from None
        if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
            raise UsageError(f"{origin} is not a CloudFormation template (no Resources)")
        _check_parameter_declarations(document.get("Parameters"), origin)
        return cls(body, document)

    @classmethod
    def from_file(cls, path: Path) -> StackTemplate:
        """Read a template file; a missing, unreadable, special or over-1-MB file is a usage error."""
        try:
            with path.open("rb") as stream:
                # A FIFO or device (/dev/zero) could stream for ever: only regular files.
                if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
                    raise UsageError(f"template file {path} is not a regular file")
                # One byte over the limit is enough to refuse it, and memory stays bounded.
                data = stream.read(TEMPLATE_URL_LIMIT + 1)
            if len(data) > TEMPLATE_URL_LIMIT:
                raise UsageError(
                    f"{path} is over {TEMPLATE_URL_LIMIT:,} bytes; CloudFormation accepts at most "
                    f"{TEMPLATE_URL_LIMIT:,} bytes (1 MB) even through S3"
                )
            body = data.decode("utf-8")
        except FileNotFoundError:
            raise UsageError(f"template file not found: {path}") from None
        except (OSError, UnicodeDecodeError) as error:
            raise UsageError(f"cannot read template file {path}: {error}") from None
        return cls.from_text(body, origin=str(path))

    @property
    def size(self) -> int:
        """Size in bytes, as CloudFormation counts it."""
        return len(self.body.encode("utf-8"))

    @property
    def needs_s3(self) -> bool:
        """Too big for TemplateBody: must travel as TemplateURL."""
        return self.size > TEMPLATE_BODY_LIMIT

    @property
    def sha256(self) -> str:
        """Content hash, for a content-addressed S3 key."""
        return hashlib.sha256(self.body.encode("utf-8")).hexdigest()

    @property
    def parameters(self) -> frozenset[str]:
        """The names of the Parameters the template declares."""
        return frozenset((self.document.get("Parameters") or {}).keys())

    def resources_of_type(self, resource_type: str) -> list[str]:
        """The logical ids of the resources of RESOURCE_TYPE, sorted."""
        return sorted(
            logical_id
            for logical_id, resource in self.document["Resources"].items()
            if isinstance(resource, dict) and resource.get("Type") == resource_type
        )

    def capabilities(self) -> list[str]:
        """The capabilities CloudFormation will ask for, from what the template contains."""
        resources = [r for r in self.document["Resources"].values() if isinstance(r, dict)]
        if self.document.get("Transform") or any(r.get("Type") in OPAQUE_TYPES for r in resources):
            return list(ALL_CAPABILITIES)
        iam = [r for r in resources if r.get("Type") in IAM_TYPES]
        if any(IAM_NAME_PROPERTIES & set(r.get("Properties") or {}) for r in iam):
            return ["CAPABILITY_NAMED_IAM"]
        return ["CAPABILITY_IAM"] if iam else []

    def no_echo(self, name: str) -> bool:
        """Whether parameter NAME is declared NoEcho (its value is never printed)."""
        declaration = (self.document.get("Parameters") or {}).get(name) or {}
        return _text(declaration.get("NoEcho")).lower() == "true"

    def check_parameters(self, values: Mapping[str, str]) -> None:
        """Refuse parameters the template does not declare, and values its constraints refuse
        (as CloudFormation would, but before any call)."""
        unknown = sorted(set(values) - self.parameters)
        if unknown:
            declared = ", ".join(sorted(self.parameters)) or "none"
            raise UsageError(
                f"the template declares no parameter {', '.join(unknown)} (declared: {declared})"
            )
        declarations = self.document.get("Parameters") or {}
        for name, value in sorted(values.items()):
            problem = constraint_problem(declarations.get(name) or {}, value)
            if problem:
                shown = f"{name} (NoEcho)" if self.no_echo(name) else f"{name}={value!r}"
                raise UsageError(f"parameter {shown}: {problem}")


def constraint_problem(declaration: dict[str, Any], value: str) -> str | None:
    """What is wrong with VALUE for a String or Number parameter's constraints, or None."""
    kind = declaration.get("Type", "String")
    if kind not in ("String", "Number"):
        return None  # lists and AWS-specific types: CloudFormation checks those itself
    allowed = declaration.get("AllowedValues")
    if isinstance(allowed, list) and value not in [_text(v) for v in allowed]:
        return f"must be one of {', '.join(_text(v) for v in allowed)}"
    if kind == "Number":
        return _number_problem(declaration, value)
    pattern = declaration.get("AllowedPattern")
    # CloudFormation matches the whole value (Java's String.matches).
    if isinstance(pattern, str) and _compile(pattern).fullmatch(value) is None:
        return f"must match the pattern {pattern}"
    if len(value) < _bound(declaration, "MinLength", int, 0):
        return f"must be at least {declaration['MinLength']} characters"
    if len(value) > _bound(declaration, "MaxLength", int, math.inf):
        return f"must be at most {declaration['MaxLength']} characters"
    return None


def _number_problem(declaration: dict[str, Any], value: str) -> str | None:
    try:
        number = float(value)
    except ValueError:
        return "must be a number"
    if number < _bound(declaration, "MinValue", float, -math.inf):
        return f"must be at least {declaration['MinValue']}"
    if number > _bound(declaration, "MaxValue", float, math.inf):
        return f"must be at most {declaration['MaxValue']}"
    return None


def _bound(declaration: dict[str, Any], key: str, kind: type, default: float) -> float:
    """A Min/Max constraint as a number; one that is not a number is the template's error."""
    if key not in declaration:
        return default
    raw = declaration[key]
    what = "an integer" if kind is int else "a number"
    problem = UsageError(f"the template's {key} {raw!r} is not {what}")
    if isinstance(raw, bool):  # YAML's true is not the number 1
        raise problem
    try:
        return kind(raw)
    except (TypeError, ValueError):
        raise problem from None


def _compile(pattern: str) -> re.Pattern[str]:
    """An AllowedPattern compiled; one Python cannot compile is refused (nothing could match)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "possible nested set" and the like: not for users
            return re.compile(pattern)
    except (re.error, RecursionError, OverflowError) as error:
        raise UsageError(
            f"the template's AllowedPattern {pattern!r} is not a valid regular expression ({error})"
        ) from None


def _parse(body: str, origin: str) -> Any:
    """JSON, else YAML with CloudFormation's short forms."""
    try:
        return json.loads(body)
    except ValueError as json_error:
        if body.lstrip().startswith("{"):  # meant as JSON: JSON's reason is the useful one
            raise UsageError(f"{origin} is not valid JSON: {json_error}") from None
    try:
        return yaml.load(body, Loader=_CfnYamlLoader)  # noqa: S506 - safe subclass
    except yaml.YAMLError as error:
        raise UsageError(f"{origin} is neither JSON nor YAML: {_one_line(error)}") from None


def _check_parameter_declarations(parameters: Any, origin: str) -> None:
    """Parameters, when present, map names to declarations (mappings), as CloudFormation requires."""
    if parameters is None:
        return
    if not isinstance(parameters, dict):
        raise UsageError(f"{origin}: Parameters must be a mapping of names to declarations")
    for name, declaration in parameters.items():
        if not isinstance(declaration, dict):
            raise UsageError(f"{origin}: parameter {name} must be a mapping (Type, Default...)")


def _text(value: Any) -> str:
    """A YAML scalar as CloudFormation reads it (true, not Python's True)."""
    return json.dumps(value) if isinstance(value, bool) else str(value)
