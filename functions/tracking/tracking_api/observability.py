"""The function's Logger, Tracer and Metrics (powertools), shared by the handler and the domain.

Building them does no AWS call and reads only the environment. The service name and metrics
namespace fall back to the stack's own values when unset, so importing this module before
the environment is complete (tests, a local emulator) can never leave metrics without a
namespace (powertools would then fail every invocation when it flushes them). The tracer
patches botocore alone: patching every library X-Ray knows would import them all at cold
start for nothing.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics, Tracer

from . import env

DEFAULT_SERVICE = "tracking-api"
DEFAULT_NAMESPACE = "LogisticsTracking"

logger = Logger(
    service=os.environ.get(env.POWERTOOLS_SERVICE_NAME) or DEFAULT_SERVICE,
    level=os.environ.get(env.LOG_LEVEL) or None,
)
tracer = Tracer(service=logger.service, patch_modules=("botocore",))
metrics = Metrics(
    service=logger.service,
    namespace=os.environ.get(env.POWERTOOLS_METRICS_NAMESPACE) or DEFAULT_NAMESPACE,
)
