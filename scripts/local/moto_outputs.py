"""Stack Outputs after a change set in the embedded moto: what `--outputs-file` and `--stack-name` read.

moto 5.2.5 computes a stack's Outputs only in CreateStack/UpdateStack: after ExecuteChangeSet
(the only way this project deploys) a new stack reports none and an updated one its old ones,
so the deploy printed `Outputs: (none reported)`, `--outputs-file` wrote `{}`, and
`tracking_client --stack-name` found no `ApiEndpoint`. `register()` recomputes them from the
change set's template once it is applied, as CloudFormation does. Like `moto_releases`, it only
works in the process that runs the server.
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation.models import ChangeSet, OutputMap


def _with_outputs(apply: Any) -> Any:
    if getattr(apply, "computes_outputs", False):
        return apply

    def apply_then_compute_outputs(self: ChangeSet) -> None:
        apply(self)
        self.stack.output_map = OutputMap(self.stack.resource_map, self.template_dict, self.stack.stack_id)

    apply_then_compute_outputs.computes_outputs = True  # type: ignore[attr-defined]
    return apply_then_compute_outputs


def register() -> None:
    """Teach this process's moto to compute a stack's Outputs when a change set is executed (idempotent)."""
    ChangeSet.apply = _with_outputs(ChangeSet.apply)  # type: ignore[method-assign]
