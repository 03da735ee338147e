"""The function's Logger, Tracer and Metrics (powertools), shared by the handler and the domain.

Building them does no AWS call and reads only the environment (service name, namespace,
log level). The tracer patches botocore alone: patching every library X-Ray knows would
import them all at cold start for nothing.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics, Tracer

from . import env

logger = Logger(level=os.environ.get(env.LOG_LEVEL) or None)
tracer = Tracer(patch_modules=("botocore",))
metrics = Metrics()
