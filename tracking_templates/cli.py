"""`python -m tracking_templates`: write the template for one environment."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import NoReturn

from .config_flag import add_config_argument, find
from .names import ENV_PATTERN
from .settings import Settings, SettingsError, settings_for

FORMATS = ("json", "yaml", "mermaid", "openapi")
DEFAULT_ENV, DEFAULT_FORMAT = "dev", "json"
PROG = "python -m tracking_templates"
# The imports render() needs beyond the standard library (setup.cfg's install_requires).
_RUNTIME_DEPENDENCIES = frozenset(("troposphere", "awacs", "yaml"))
INSTALL_COMMAND = "python -m pip install -c constraints.txt -e ."


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line on stderr, nothing on stdout, exit 2 (argparse would print the usage too).
        self.exit(2, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Write the logistics-tracking CloudFormation template (JSON by default) to stdout or FILE.",
    )
    parser.add_argument("--env", default=DEFAULT_ENV,
                        help=f"environment name, {ENV_PATTERN} (default dev); dev, staging and prod have "
                             "their own settings, any other name gets dev's")
    add_config_argument(parser)
    parser.add_argument("--format", choices=FORMATS, default=DEFAULT_FORMAT,
                        help="json (default), yaml, mermaid (an architecture diagram of the template), or "
                             "openapi (an OpenAPI 3.0 document of the API, JSON)")
    parser.add_argument("--print-settings", action="store_true",
                        help="write the environment's resolved settings (profile, then file) as a settings "
                             "file instead of the template")
    parser.add_argument("-o", "--output", metavar="FILE", type=Path, help="write to FILE instead of stdout")
    return parser


def render(env: str, fmt: str = "json", settings: Settings | None = None) -> str:
    """The template (or OpenAPI document) of environment `env`, with SETTINGS (default: its built-in
    profile), as text in format `fmt`."""
    from . import render as text
    from .template import build_template

    settings = settings_for(env) if settings is None else settings
    if fmt == "openapi":
        from .openapi import to_json as openapi_json

        return openapi_json(settings)
    template = build_template(settings)
    if fmt == "yaml":
        return text.to_yaml(template)
    if fmt == "mermaid":
        from .diagram import to_mermaid

        return to_mermaid(text.ordered(template))
    return text.to_json(template)


def main(argv: list[str] | None = None) -> int:
    """Parse flags, render, write; usage errors exit 2 with one line on stderr."""
    parser = _parser()
    args = parser.parse_args(argv)
    path = find(args.config)
    try:
        if path is None and not args.print_settings:
            # No file: the loader is not even imported (it costs the generator's start-up).
            settings = settings_for(args.env)
        else:
            from . import settings_file

            config = settings_file.resolve(settings_file.load(path), args.env)
            settings = config.settings
    except SettingsError as error:
        parser.error(str(error))
    if args.print_settings:
        output = settings_file.dumps(args.env, config)
    else:
        try:
            output = render(args.env, args.format, settings)
        except ModuleNotFoundError as error:
            if error.name not in _RUNTIME_DEPENDENCIES:
                raise
            # Run from a checkout before the README's first command: one line, not a traceback.
            print(f"{PROG}: error: {error.name} is not installed; install the project first: "
                  f"{INSTALL_COMMAND}", file=sys.stderr)
            return 2
    if args.output is None:
        try:
            sys.stdout.write(output)
            sys.stdout.flush()
        except BrokenPipeError:
            # The reader left (`| head`): nothing to say; keep the exit flush from raising again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 1
        except OSError as error:
            print(f"{PROG}: error: cannot write to stdout: {error.strerror}", file=sys.stderr)
            return 1
        return 0
    try:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(output, encoding="utf-8")
    except OSError as error:
        print(f"{PROG}: error: cannot write {args.output}: {error.strerror}", file=sys.stderr)
        return 2
    return 0
