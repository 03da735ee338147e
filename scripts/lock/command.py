"""python -m scripts.lock: remake the dependency locks with uv, or with --check verify them offline."""

from __future__ import annotations

import argparse

from ..package import locks


def main(argv: list[str] | None = None) -> int:
    """Remake the locks, or with --check only verify them."""
    parser = argparse.ArgumentParser(prog="python -m scripts.lock", description=locks.__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify the locks offline, resolve nothing")
    parser.add_argument("--upgrade", action="store_true", help="allow newer versions than the current pins")
    args = parser.parse_args(argv)
    return locks.check() if args.check else locks.relock(args.upgrade)

