"""The notifier's Logger, Tracer and Metrics (powertools), shared by the handler and the domain.

Built from the environment alone, with no AWS call. The service name and metrics namespace
fall back to the stack's values when unset: metrics without a namespace would make powertools
fail every invocation when it flushes them. The tracer patches botocore only (the SNS and SSM
calls are what is worth tracing); patching every library X-Ray knows would import them all at
cold start.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics, Tracer

from . import env

DEFAULT_SERVICE = "status-notifier"
DEFAULT_NAMESPACE = "LogisticsTracking"

logger = Logger(service=os.environ.get(env.POWERTOOLS_SERVICE_NAME) or DEFAULT_SERVICE)
tracer = Tracer(service=logger.service, patch_modules=("botocore",))
metrics = Metrics(
    service=logger.service,
    namespace=os.environ.get(env.POWERTOOLS_METRICS_NAMESPACE) or DEFAULT_NAMESPACE,
)
