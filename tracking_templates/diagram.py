"""A Mermaid architecture diagram drawn from the template itself: resources and references."""

from __future__ import annotations

from collections.abc import Mapping

from .render import dependencies

# Resource type prefix -> the group it is drawn in (in this order).
GROUPS = (
    ("AWS::ApiGateway::", "API Gateway"),
    ("AWS::Lambda::", "Lambda"),
    ("AWS::CodeDeploy::", "Releases"),
    ("AWS::IAM::", "IAM"),
    ("AWS::DynamoDB::", "Storage"),
    ("AWS::SQS::", "Storage"),
    ("AWS::SSM::", "Configuration"),
    ("AWS::SNS::", "Notifications"),
    ("AWS::Logs::", "Observability"),
    ("AWS::CloudWatch::", "Observability"),
    ("AWS::KMS::", "Encryption"),
)
OTHER = "Other"


def _group(resource_type: str) -> str:
    return next((group for prefix, group in GROUPS if resource_type.startswith(prefix)), OTHER)


def to_mermaid(template: Mapping) -> str:
    """A `flowchart` with one subgraph per service group; an arrow A --> B means A refers to B."""
    resources = template["Resources"]
    order = list(dict.fromkeys([group for _, group in GROUPS] + [OTHER]))
    lines = ["flowchart LR"]
    for group in order:
        members = [name for name, res in resources.items() if _group(res["Type"]) == group]
        if not members:
            continue
        lines.append(f'  subgraph {group.replace(" ", "")}["{group}"]')
        for name in members:
            short = resources[name]["Type"].split("::", 1)[1]
            condition = resources[name].get("Condition")
            note = f"<br/><i>if {condition}</i>" if condition else ""
            lines.append(f'    {name}["{name}<br/><small>{short}</small>{note}"]')
        lines.append("  end")
    graph = dependencies(resources)
    for name in resources:
        for target in sorted(graph[name]):
            lines.append(f"  {name} --> {target}")
    return "\n".join(lines) + "\n"
