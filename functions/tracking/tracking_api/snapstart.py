"""SnapStart: what the execution environments resumed from one snapshot must not share.

With SnapStart on (prod), Lambda runs the function's init once per published version, snapshots
its memory, and resumes every new execution environment of that version from the snapshot:
whatever init made, every environment has the same copy of. The functions' init makes no AWS
client, connection or credentials (all are made on first use, in an invocation, so after the
restore), no id, no key and no secret (`secrets`, `uuid` and X-Ray ids read os.urandom when
used). What init does leave in the snapshot is the state of Python's `random` module, seeded
once when botocore imported it: every resumed environment would draw the same retry jitter
(botocore's backoff is `random.random()`), retrying in lockstep against a throttled table.
The after-restore hook re-seeds it from os.urandom and drops anything cached that a future
init might make (the function's clients and cached parameters). See docs/releases.md.

`snapshot_restore_py` exists only in Lambda's Python runtime (3.12+); elsewhere (tests, the
local emulator) nothing is registered. Two byte-identical copies: tracking_api/snapstart.py is
the one to edit, status_notifier/snapstart.py its copy (a test fails when they differ).
"""

from __future__ import annotations

import random
from collections.abc import Callable


def after_restore(*resets: Callable[[], None]) -> None:
    """Give this execution environment its own random state, then run each reset (cached clients...)."""
    random.seed()  # from os.urandom: differs in every resumed environment
    for reset in resets:
        reset()


def register(*resets: Callable[[], None]) -> bool:
    """Run after_restore(*resets) after every SnapStart restore; False where the runtime has no hooks."""
    try:
        from snapshot_restore_py import register_after_restore
    except ImportError:  # not on Lambda: no snapshot, nothing to restore
        return False
    register_after_restore(after_restore, *resets)
    return True
