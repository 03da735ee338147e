"""What both functions' tests need from a Lambda runtime: a context object and handler loading."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "functions"


@dataclass
class FakeLambdaContext:
    """The attributes of a Lambda context object that powertools and the handlers read."""

    function_name: str = "tracking-processor-test"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    aws_request_id: str = "52fdfc07-2182-454f-963f-5f0f9a621d72"
    log_stream_name: str = "2026/11/28/[$LATEST]0123456789abcdef"
    remaining_ms: int = 30_000
    invoked_function_arn: str = field(init=False)
    log_group_name: str = field(init=False)

    def __post_init__(self) -> None:
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"
        self.log_group_name = f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left, as the Lambda runtime reports them."""
        return self.remaining_ms


def load_handler(function: str, module_name: str) -> ModuleType:
    """functions/FUNCTION/handler.py under a unique module name (both functions have a handler.py)."""
    spec = importlib.util.spec_from_file_location(module_name, FUNCTIONS_DIR / function / "handler.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
