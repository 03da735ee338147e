"""Lambda functions run in this process: handler loaded from its source folder by file path.

`os.environ` is process-wide, so invocations hold one lock and each applies its function's
environment first; a real Lambda instance also runs one invocation at a time.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .events import LambdaContext


@dataclass(frozen=True)
class FunctionConfig:
    """What the deployed function is: names, handler, code folder, environment, limits."""

    logical_id: str
    name: str
    arn: str
    handler: str  # "module.function", e.g. handler.main
    source_dir: Path
    environment: Mapping[str, str]
    memory_mb: int = 128
    timeout_s: int = 3


def _runtime_environment(config: FunctionConfig, region: str) -> dict[str, str]:
    # What the Lambda runtime itself sets. LAMBDA_TASK_ROOT stays unset on purpose: with it,
    # powertools' Tracer would believe an X-Ray daemon is listening.
    return {
        "AWS_LAMBDA_FUNCTION_NAME": config.name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{config.name}",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "_HANDLER": config.handler,
    }


class InProcessFunction:
    """One Lambda function, imported once and invoked like the Lambda runtime would."""

    _lock = threading.RLock()
    _active: InProcessFunction | None = None
    _applied: frozenset[str] = frozenset()

    def __init__(self, config: FunctionConfig, region: str) -> None:
        self.config = config
        self._env = {**_runtime_environment(config, region), **config.environment}
        with self._lock:
            self._apply_environment()
            self._entry = self._load()

    def _load(self) -> Callable[[dict[str, Any], Any], Any]:
        module_path, _, function_name = self.config.handler.rpartition(".")
        source = str(self.config.source_dir)
        if source not in sys.path:
            sys.path.insert(0, source)
        path = self.config.source_dir.joinpath(*module_path.split(".")).with_suffix(".py")
        unique = f"_local_lambda_{self.config.logical_id}_{module_path.replace('.', '_')}"
        spec = importlib.util.spec_from_file_location(unique, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load the handler of {self.config.logical_id} from {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[unique] = module
        spec.loader.exec_module(module)
        return getattr(module, function_name)

    def _apply_environment(self) -> None:
        cls = InProcessFunction
        if cls._active is self:
            return
        for name in cls._applied - self._env.keys():
            os.environ.pop(name, None)
        os.environ.update(self._env)
        cls._active, cls._applied = self, frozenset(self._env)

    def invoke(self, event: dict[str, Any]) -> Any:
        """Run the handler on one event with a fresh Lambda context; exceptions propagate."""
        context = LambdaContext(
            function_name=self.config.name,
            invoked_function_arn=self.config.arn,
            memory_limit_in_mb=self.config.memory_mb,
            timeout_seconds=self.config.timeout_s,
        )
        with self._lock:
            self._apply_environment()
            return self._entry(event, context)
