"""The one clock the API stamps updates with (a module function, so tests can freeze it)."""

from __future__ import annotations

import time


def now_ms() -> int:
    """Milliseconds since the Unix epoch (UTC), as an integer."""
    return time.time_ns() // 1_000_000
