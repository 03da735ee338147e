"""Where the Lambda functions' sources live, and the facts the template reads from them.

The template and the handlers share one definition of the request schema and of the
environment variable names; those live beside the function code (they ship in its zip) and
are read from there: from the checkout (or an editable install), which is also where the
package script takes the code from, or else from the copies a regular install puts under
`<prefix>/share/logistics-tracking/functions/` (setup.cfg's data_files), so that
`python -m tracking_templates` works from any install.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from functools import lru_cache
from pathlib import Path
from types import ModuleType

REPO_ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = REPO_ROOT / "functions"
TRACKING_DIR = FUNCTIONS_DIR / "tracking"
NOTIFIER_DIR = FUNCTIONS_DIR / "notifier"
TRACKING_SCHEMA_FILE = TRACKING_DIR / "tracking_api" / "tracking_update.schema.json"
INSTALLED_FUNCTIONS_DIR = Path(sys.prefix) / "share" / "logistics-tracking" / "functions"


def function_file(path: Path) -> Path:
    """path (under FUNCTIONS_DIR) in the checkout, or its installed copy when there is no checkout."""
    if path.exists():
        return path
    return INSTALLED_FUNCTIONS_DIR / path.relative_to(FUNCTIONS_DIR)


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, function_file(path))
    if spec is None or spec.loader is None:  # pragma: no cover - a broken checkout
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@lru_cache(maxsize=None)
def tracking_env() -> ModuleType:
    """The tracking API's environment variable names (functions/tracking/tracking_api/env.py)."""
    return _load(TRACKING_DIR / "tracking_api" / "env.py", "_tracking_api_env")


@lru_cache(maxsize=None)
def notifier_env() -> ModuleType:
    """The notifier's environment variable names (functions/notifier/status_notifier/env.py)."""
    return _load(NOTIFIER_DIR / "status_notifier" / "env.py", "_status_notifier_env")


@lru_cache(maxsize=None)
def listing_sharding() -> ModuleType:
    """How the listing index is sharded and keyed (functions/notifier/status_notifier/sharding.py)."""
    return _load(NOTIFIER_DIR / "status_notifier" / "sharding.py", "_status_notifier_sharding")


@lru_cache(maxsize=None)
def idempotency_contract() -> ModuleType:
    """POST /track's Idempotency-Key header and table attributes (functions/tracking/tracking_api/idempotency_contract.py)."""
    return _load(TRACKING_DIR / "tracking_api" / "idempotency_contract.py", "_tracking_api_idempotency_contract")


@lru_cache(maxsize=None)
def tracking_update_schema_text() -> str:
    """The request schema's file text, exactly as the handler loads it."""
    return function_file(TRACKING_SCHEMA_FILE).read_text(encoding="utf-8")


def tracking_update_schema() -> dict:
    """The JSON schema of a POST /track body (a fresh copy each call)."""
    return json.loads(tracking_update_schema_text())
