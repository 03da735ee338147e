"""A template to deploy: its text, what it declares, what it needs, and CloudFormation's limits."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import UsageError

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


class _CfnYamlLoader(yaml.SafeLoader):
    """YAML loader that reads CloudFormation short forms (!Ref, !Sub...) as plain values."""


def _short_form(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
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
            document = json.loads(body)
        except ValueError as json_error:
            if body.lstrip().startswith("{"):  # meant as JSON: JSON's reason is the useful one
                raise UsageError(f"{origin} is not valid JSON: {json_error}") from None
            try:
                document = yaml.load(body, Loader=_CfnYamlLoader)  # noqa: S506 - safe subclass
            except yaml.YAMLError as error:
                raise UsageError(f"{origin} is neither JSON nor YAML: {_one_line(error)}") from None
        if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
            raise UsageError(f"{origin} is not a CloudFormation template (no Resources)")
        return cls(body, document)

    @classmethod
    def from_file(cls, path: Path) -> StackTemplate:
        """Read a template file; a missing or unreadable file is a usage error."""
        try:
            body = path.read_text(encoding="utf-8")
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

    def capabilities(self) -> list[str]:
        """The capabilities CloudFormation will ask for, from what the template contains."""
        capabilities: list[str] = []
        resources = self.document.get("Resources", {}).values()
        iam = [r for r in resources if isinstance(r, dict) and r.get("Type") in IAM_TYPES]
        if any(IAM_NAME_PROPERTIES & set(r.get("Properties") or {}) for r in iam):
            capabilities.append("CAPABILITY_NAMED_IAM")
        elif iam:
            capabilities.append("CAPABILITY_IAM")
        if self.document.get("Transform") or any(
            isinstance(r, dict) and r.get("Type") == "AWS::CloudFormation::Macro"
            for r in resources
        ):
            capabilities.append("CAPABILITY_AUTO_EXPAND")
        return capabilities

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
                raise UsageError(f"parameter {name}={value!r}: {problem}")


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
    try:
        # CloudFormation matches the whole value (Java's String.matches).
        if isinstance(pattern, str) and re.fullmatch(pattern, value) is None:
            return f"must match the pattern {pattern}"
    except re.error:
        pass  # a construct Python's re lacks: leave this check to CloudFormation
    if len(value) < int(declaration.get("MinLength", 0)):
        return f"must be at least {declaration['MinLength']} characters"
    if "MaxLength" in declaration and len(value) > int(declaration["MaxLength"]):
        return f"must be at most {declaration['MaxLength']} characters"
    return None


def _number_problem(declaration: dict[str, Any], value: str) -> str | None:
    try:
        number = float(value)
    except ValueError:
        return "must be a number"
    if "MinValue" in declaration and number < float(declaration["MinValue"]):
        return f"must be at least {declaration['MinValue']}"
    if "MaxValue" in declaration and number > float(declaration["MaxValue"]):
        return f"must be at most {declaration['MaxValue']}"
    return None


def _text(value: Any) -> str:
    """A YAML scalar as CloudFormation reads it (true, not Python's True)."""
    return json.dumps(value) if isinstance(value, bool) else str(value)
