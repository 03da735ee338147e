"""Trimmed botocore data for the tracking API Lambda, cut from the installed botocore.

A botocore client parses its service's whole model when it is made: about 950 KB of JSON for
SSM, 550 KB for DynamoDB, and builds a method for every operation; the first client of a
session also parses endpoints.json (1.25 MB, every service in every partition). The Lambda
calls three operations of two services, so its cold start pays for hundreds it never calls.

This writes, for each service, a `service-2.json` holding only the operations the function
calls (plus the one botocore itself may call for them: the endpoint-discovery operation), the
transitive closure of the shapes they use, and every modelled exception (so
`client.exceptions` and the error classes raised stay those of the full model). Documentation
is left out (it only feeds docstrings); everything else (metadata, client context parameters,
protocol settings) is copied as is. And an `endpoints.json` whose partitions (copied as is)
list only these services (copied as is).

The function's own botocore session looks in the output folder first (tracking_api/trimmed_data.py);
endpoint rulesets, partitions, paginators and waiters still come from the installed botocore.
Re-run after upgrading botocore; a test fails while the committed files differ from a fresh cut.

    python -m scripts.package.trim_botocore_models [--out DIR] [--check]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO_ROOT / "functions" / "tracking" / "tracking_api" / "botocore_data"

# Service -> the operations the tracking Lambda calls (storage.py, flags.py through powertools).
OPERATIONS: dict[str, tuple[str, ...]] = {
    "dynamodb": ("PutItem", "Query"),
    "ssm": ("GetParameter",),
}
MODEL = "service-2"


def _installed_loader() -> Any:
    """A loader over botocore's own data only (no ~/.aws/models, no AWS_DATA_PATH)."""
    from botocore.loaders import Loader

    return Loader(extra_search_paths=[Loader.BUILTIN_DATA_PATH], include_default_search_paths=False)


def _undocumented(node: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in node.items() if key != "documentation"}


def _shape_refs(shape: dict[str, Any]) -> list[dict[str, Any]]:
    """The member references of a shape (structure members, list member, map key and value)."""
    refs = list(shape.get("members", {}).values())
    refs += [shape[part] for part in ("member", "key", "value") if part in shape]
    return refs


def _operation_refs(operation: dict[str, Any]) -> list[dict[str, Any]]:
    refs = [operation[part] for part in ("input", "output") if part in operation]
    return refs + list(operation.get("errors", []))


def _trimmed_shape(shape: dict[str, Any]) -> dict[str, Any]:
    trimmed = _undocumented(shape)
    if "members" in shape:
        trimmed["members"] = {name: _undocumented(ref) for name, ref in shape["members"].items()}
    for part in ("member", "key", "value"):
        if part in shape:
            trimmed[part] = _undocumented(shape[part])
    return trimmed


def trim(model: dict[str, Any], operations: tuple[str, ...]) -> dict[str, Any]:
    """model with only operations (and botocore's endpoint-discovery operation) and the shapes they need."""
    all_operations = model["operations"]
    missing = [name for name in operations if name not in all_operations]
    if missing:
        raise ValueError(f"operations not in the {model['metadata']['serviceId']} model: {missing}")
    kept_operations = [
        name for name, op in all_operations.items() if name in operations or op.get("endpointoperation")
    ]
    shapes = model["shapes"]
    # Every exception stays, so error codes map to the same classes as with the full model.
    pending = [name for name, shape in shapes.items() if shape.get("exception")]
    pending += [ref["shape"] for name in kept_operations for ref in _operation_refs(all_operations[name])]
    needed: set[str] = set()
    while pending:
        name = pending.pop()
        if name not in needed:
            needed.add(name)
            pending.extend(ref["shape"] for ref in _shape_refs(shapes[name]))
    trimmed = _undocumented(model)
    trimmed["operations"] = {name: _undocumented(all_operations[name]) for name in kept_operations}
    # Original order: botocore serialises members in model order.
    trimmed["shapes"] = {name: _trimmed_shape(shape) for name, shape in shapes.items() if name in needed}
    return trimmed


def trim_endpoints(endpoints: dict[str, Any], prefixes: set[str]) -> dict[str, Any]:
    """endpoints.json with every partition kept whole except its services: only those in prefixes."""
    partitions = [
        {**partition, "services": {k: v for k, v in partition["services"].items() if k in prefixes}}
        for partition in endpoints["partitions"]
    ]
    return {**endpoints, "partitions": partitions}


def render(model: dict[str, Any]) -> str:
    """The file text for a model: stable, diff-friendly JSON."""
    return json.dumps(model, indent=1, ensure_ascii=False) + "\n"


def trimmed_data(operations: dict[str, tuple[str, ...]] = OPERATIONS) -> dict[str, str]:
    """Relative path -> file text of every trimmed file, cut from the installed botocore."""
    loader = _installed_loader()
    files = {}
    prefixes = set()
    for service, names in sorted(operations.items()):
        version = loader.determine_latest_version(service, MODEL)
        model = loader.load_service_model(service, MODEL, api_version=version)
        files[f"{service}/{version}/{MODEL}.json"] = render(trim(model, names))
        prefixes.add(model["metadata"]["endpointPrefix"])  # what endpoints.json is keyed by
    files["endpoints.json"] = render(trim_endpoints(loader.load_data("endpoints"), prefixes))
    return files


def _present(out: Path) -> set[str]:
    return {path.relative_to(out).as_posix() for path in out.rglob("*.json")} if out.is_dir() else set()


def _stale(out: Path, files: dict[str, str]) -> list[str]:
    """Files in out that differ from files, are missing, or should not be there."""
    stale = sorted(_present(out) - set(files))
    for relative, text in sorted(files.items()):
        path = out / relative
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(relative)
    return stale


def main(argv: list[str] | None = None) -> int:
    """Write (or with --check, verify) the trimmed files; exit 1 when --check finds a difference."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default: {DEFAULT_OUT})")
    parser.add_argument("--check", action="store_true", help="compare with the files in --out, write nothing")
    args = parser.parse_args(argv)
    files = trimmed_data()
    stale = _stale(args.out, files)
    if args.check:
        for relative in stale:
            print(f"out of date: {args.out / relative}", file=sys.stderr)
        return 1 if stale else 0
    for relative in _present(args.out) - set(files):  # a model no longer cut (an older api version)
        (args.out / relative).unlink()
    for relative, text in files.items():
        path = args.out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path} ({len(text)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
