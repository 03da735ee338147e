"""The few ways a package, bootstrap or deploy run can fail, each with its exit code."""

from __future__ import annotations


class DeployError(Exception):
    """The deploy failed (exit 1)."""

    exit_code = 1


class UsageError(DeployError):
    """Bad flags or input, found before anything changed (exit 2)."""

    exit_code = 2


class ReplacementRefused(DeployError):
    """The change set would replace or remove stateful resources (exit 3)."""

    exit_code = 3


class DeployTimeout(DeployError):
    """Waiting took longer than allowed; the stack may still be changing (exit 4)."""

    exit_code = 4


class Interrupted(DeployError):
    """Ctrl-C while AWS works on; the message says what is left running (exit 130, as for SIGINT)."""

    exit_code = 130
