"""The CPython of the Lambda runtime's version, for the tests that compile or run bytecode."""

from __future__ import annotations

import pytest

from scripts.package.interpreter import Interpreter, InterpreterNotFound, find_interpreter


def runtime_python() -> Interpreter:
    """python3.13 found as `scripts.package` finds it; the test is skipped (with how to get one) if none."""
    try:
        return find_interpreter()
    except InterpreterNotFound as error:  # .ci/run puts one on PATH, so CI never skips
        # without the command's flags (--python, --no-bytecode): they mean nothing to pytest
        pytest.skip(error.reason(command_line=False))
