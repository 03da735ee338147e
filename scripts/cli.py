"""What every script's `main` shares: K=V parsing and mapping failures to exit codes."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NoReturn

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    CredentialRetrievalError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
    PartialCredentialsError,
    ProfileNotFound,
    SSOError,
    TokenRetrievalError,
)
from botocore.parsers import ResponseParserError

from .errors import DeployError, Interrupted, ReplacementRefused, UsageError


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line pointing at --help, not the whole usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def non_empty(text: str) -> str:
    """An argparse type: any text but the empty string (an unset CI variable, say)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return text


def non_empty_path(text: str) -> Path:
    """An argparse type: a path that is not the empty string."""
    return Path(non_empty(text))


def check_region(name: str) -> str:
    """NAME if botocore accepts it as a region name (its own check), else a usage error."""
    from botocore.exceptions import InvalidRegionError
    from botocore.utils import validate_region_name

    try:
        validate_region_name(name)
    except InvalidRegionError:
        raise UsageError(f"invalid region name {name!r}") from None
    if not name:
        raise UsageError("the region must not be empty")
    return name


def parse_pairs(items: Iterable[str], flag: str, echo: bool = True) -> dict[str, str]:
    """Parse `K=V` strings (the value may contain '='); anything else is a usage error.

    Without ECHO a bad item is not repeated: it may be a secret typed without its key.
    """
    pairs: dict[str, str] = {}
    for number, item in enumerate(items, start=1):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            shown = repr(item) if echo else f"item {number} (not shown: it may be a secret)"
            raise UsageError(f"{flag}: expected KEY=VALUE, got {shown}")
        pairs[key.strip()] = value
    return pairs


def writable_dir(path: Path, flag: str) -> Path:
    """Create PATH if needed; a directory that cannot be made or written is a usage error."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"{flag} {path}: cannot create the directory ({error.strerror})") from None
    if not os.access(path, os.W_OK):
        raise UsageError(f"{flag} {path}: the directory is not writable")
    return path


def writable_file(path: Path, flag: str) -> Path:
    """Check, before any work, that PATH can be written later (its folder is created)."""
    try:
        is_dir = path.is_dir()
    except OSError as error:  # e.g. a name longer than the file system allows
        raise UsageError(f"{flag} {path}: {error.strerror}") from None
    if is_dir:
        raise UsageError(f"{flag} {path}: is a directory")
    writable_dir(path.parent, flag)
    return path


# Ctrl-C outside the waits (which say exactly what carries on): nothing may have started, or a
# call that started something may just have returned.
STACK_INTERRUPTED = (
    "interrupted: any stack operation already started carries on in CloudFormation; "
    "check the stack before deploying again"
)


def run(command: Callable[[], int], interrupted: str = "interrupted") -> int:
    """Run COMMAND, turning known failures into one line on stderr and the contract's exit code.

    INTERRUPTED is the line for a Ctrl-C that no step reported more precisely.
    """
    try:
        return command()
    except DeployError as error:
        labels = {ReplacementRefused.exit_code: "refused", Interrupted.exit_code: "interrupted"}
        label = labels.get(error.exit_code, "error")
        print(f"{label}: {error}", file=sys.stderr)
        return error.exit_code
    # A missing profile, a failing credential_process or an expired SSO login: found when the
    # credentials are checked, before any call, so input errors like having none at all.
    except (NoCredentialsError, PartialCredentialsError, ProfileNotFound, CredentialRetrievalError,
            SSOError, TokenRetrievalError) as error:  # fmt: skip
        print(f"error: no usable AWS credentials ({error})", file=sys.stderr)
        return UsageError.exit_code
    except NoRegionError:
        print("error: no AWS region: pass --region or set AWS_REGION", file=sys.stderr)
        return UsageError.exit_code
    except ParamValidationError as error:
        # botocore refused a value before sending it (e.g. a malformed bucket name): bad input.
        print(f"error: {' '.join(str(error).split())}", file=sys.stderr)
        return UsageError.exit_code
    except ClientError as error:
        print(f"error: {error}", file=sys.stderr)
        return DeployError.exit_code
    except ResponseParserError as error:
        # Something answered that is not the AWS API (a web page, a JSON service, a proxy).
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        print(f"error: the endpoint's answer is not an AWS API response ({first})", file=sys.stderr)
        return DeployError.exit_code
    except BotoCoreError as error:
        print(f"error: {error}", file=sys.stderr)
        return DeployError.exit_code
    except KeyboardInterrupt:
        print(interrupted, file=sys.stderr)
        return 130
