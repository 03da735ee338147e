"""The `--config FILE` flag and where the settings file is found by default.

Apart from the loader (`settings_file`), so that a command run without a settings file pays
nothing for it (the generator's start-up is a measured figure).
"""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_SETTINGS_FILE = "tracking.toml"


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    """The `--config FILE` flag, as every command that reads the settings file spells it."""
    parser.add_argument(
        "--config", metavar="FILE", type=Path,
        help=f"settings file overriding the built-in profiles per environment (default: {DEFAULT_SETTINGS_FILE} "
             "in the current folder when it exists); flags win over it",
    )


def find(path: Path | None, cwd: Path | None = None) -> Path | None:
    """The settings file to read: PATH when given, else `tracking.toml` in CWD when it exists."""
    if path is not None:
        return path
    # Relative when found in the current folder: errors then name it as the user knows it.
    default = Path(DEFAULT_SETTINGS_FILE) if cwd is None else cwd / DEFAULT_SETTINGS_FILE
    return default if default.is_file() else None
