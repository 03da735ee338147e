"""`UpdateTerminationProtection` in the embedded moto: what lets it take a prod deploy without an error.

moto 5.2.5 keeps a stack's `EnableTerminationProtection` (CreateStack sets it, DescribeStacks
reports it) but has no `UpdateTerminationProtection`: every prod deploy into it (`scripts.local
--env prod`, `--emulator-only`) made the server log a 40-line traceback and the deploy warn that
the stack was not protected. `register()` adds the call over moto's own stack record, as
AWS answers it (the stack's id). Like `moto_releases`, it only works in the process that runs
the server.
"""

from __future__ import annotations

from moto.cloudformation.responses import CloudFormationResponse
from moto.core.responses import ActionResult


def update_termination_protection(self: CloudFormationResponse) -> ActionResult:
    """UpdateTerminationProtection: set the stack's flag; answer its StackId."""
    stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
    stack.enable_termination_protection = self._get_bool_param("EnableTerminationProtection")
    return ActionResult({"StackId": stack.stack_id})


def register() -> None:
    """Teach this process's moto CloudFormation UpdateTerminationProtection (idempotent)."""
    CloudFormationResponse.update_termination_protection = update_termination_protection  # type: ignore[attr-defined]
