"""The CPython of the Lambda runtime's version, for the tests that compile or run bytecode."""

from __future__ import annotations

import pytest

from scripts.errors import UsageError
from scripts.package.interpreter import Interpreter, find_interpreter


def runtime_python() -> Interpreter:
    """python3.13 found as `scripts.package` finds it; the test is skipped (with how to get one) if none."""
    try:
        return find_interpreter()
    except UsageError as error:  # .ci/run puts one on PATH, so CI never skips
        pytest.skip(str(error))
