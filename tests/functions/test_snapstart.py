"""SnapStart safety: each handler registers one after-restore hook that re-seeds `random` and drops
what the function caches; importing a handler makes nothing an environment must not share."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import types

import pytest

from .lambda_runtime import FUNCTIONS_DIR

# Both copies are byte-identical (test_shared_code.py); load the source one by path.
sys.path.insert(0, str(FUNCTIONS_DIR / "tracking"))
from tracking_api import snapstart  # noqa: E402

# A stand-in for Lambda's snapshot_restore_py (same registry shape: (func, args, kwargs)), then
# the handler imported as the runtime would, then the snapshot's moment and the restore.
PROBE = """
import json, random, sys, types
hooks = {"before": [], "after": []}
fake = types.ModuleType("snapshot_restore_py")
fake.register_after_restore = lambda func, *args, **kwargs: hooks["after"].append((func, args, kwargs)) or func
fake.register_before_snapshot = lambda func, *args, **kwargs: hooks["before"].append((func, args, kwargs)) or func
sys.modules["snapshot_restore_py"] = fake
sys.path.insert(0, sys.argv[1])
import handler
import gc, botocore, botocore.client, botocore.credentials
# What init left behind: clients (endpoint, signed?) and credentials of any kind
objects = gc.get_objects()
made_clients = [[c.meta.service_model.service_id, c.meta.endpoint_url, c.meta.config.signature_version is not botocore.UNSIGNED]
                for c in objects if isinstance(c, botocore.client.BaseClient)]
credentials = [type(o).__name__ for o in objects if isinstance(o, botocore.credentials.Credentials)]
package = __import__(sys.argv[2])
cache = getattr(__import__(sys.argv[2] + "." + sys.argv[3]).__dict__[sys.argv[3]], sys.argv[4])
cache["marker"] = object()  # as if a client had been made
snapshot_state = random.getstate()
for func, args, kwargs in hooks["after"]:
    func(*args, **kwargs)
print(json.dumps({
    "before": len(hooks["before"]),
    "after": [(f"{func.__module__}.{func.__name__}", [f"{a.__module__}.{a.__name__}" for a in args]) for func, args, _ in hooks["after"]],
    "clients": made_clients, "credentials": credentials,
    "cache_after_restore": len(cache), "reseeded": random.getstate() != snapshot_state,
}))
"""


@pytest.mark.parametrize(
    ("function", "package", "module", "cache", "resets"),
    [
        ("tracking", "tracking_api", "aws", "_cache", ["tracking_api.aws.reset", "tracking_api.flags.reset"]),
        ("notifier", "status_notifier", "clients", "_made", ["status_notifier.clients.reset"]),
    ],
)
def test_each_handler_registers_one_restore_hook_and_its_init_holds_no_client(
    function: str, package: str, module: str, cache: str, resets: list[str]
) -> None:
    # GIVEN a fresh interpreter with Lambda's hook registry  WHEN the handler is imported, then "restored"
    env = {"PATH": "", "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(FUNCTIONS_DIR / function), package, module, cache],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    # THEN one after-restore hook (snapstart.after_restore with the function's resets), no before-snapshot hook
    assert result["before"] == 0
    assert result["after"] == [[f"{package}.snapstart.after_restore", resets]]
    # AND init resolved no credentials and made none of the function's clients (they come on first
    # use, after the restore); the one client is the X-Ray SDK's sampling connector: unsigned, aimed
    # at the local daemon, and unused in Lambda (Lambda makes the sampling decision)
    assert result["credentials"] == []
    assert result["clients"] == [["XRay", "http://127.0.0.1:2000", False]]
    # AND the restore re-seeded `random` and emptied the function's client cache
    assert result["reseeded"] is True
    assert result["cache_after_restore"] == 0


def test_after_restore_reseeds_from_the_os_and_runs_every_reset() -> None:
    # GIVEN two "environments" resumed from one snapshot: the same random state
    random.seed(1234)
    snapshot = random.getstate()
    calls: list[str] = []
    draws = []
    for environment in ("a", "b"):
        random.setstate(snapshot)
        # WHEN each runs the after-restore hook, then draws a retry jitter
        snapstart.after_restore(lambda: calls.append(environment))
        draws.append(random.random())
    # THEN their draws differ (without the hook they would be equal), and each ran its resets once
    random.setstate(snapshot)
    without_hook = random.random()
    random.setstate(snapshot)
    assert random.random() == without_hook
    assert draws[0] != draws[1]
    assert calls == ["a", "b"]


def test_register_is_a_no_op_off_lambda(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN no snapshot_restore_py (tests, the local emulator)  THEN nothing is registered
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)
    assert snapstart.register(lambda: None) is False
    # AND with the runtime's module, the hook and its arguments are registered
    registered = []
    fake = types.ModuleType("snapshot_restore_py")
    fake.register_after_restore = lambda func, *args: registered.append((func, args))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", fake)
    reset = lambda: None  # noqa: E731
    assert snapstart.register(reset) is True
    assert registered == [(snapstart.after_restore, (reset,))]
