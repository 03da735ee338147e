"""Where the scripts write: results to stdout, progress and problems to stderr."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Console:
    """Plain text output; a progress line that rewrites itself on a terminal."""

    def __init__(
        self,
        out: TextIO | None = None,
        err: TextIO | None = None,
        progress_interval: float = 15.0,
    ) -> None:
        self._out = out
        self._err = err
        self.progress_interval = progress_interval
        self._last_progress = float("-inf")
        self._progress_shown = False

    @property
    def out(self) -> TextIO:
        # Resolved late so that redirected (or captured) streams are honoured.
        return self._out or sys.stdout

    @property
    def err(self) -> TextIO:
        return self._err or sys.stderr

    @property
    def color(self) -> bool:
        """Colour only on a terminal."""
        return bool(getattr(self.out, "isatty", lambda: False)())

    def info(self, text: str = "") -> None:
        """A line of results (stdout)."""
        self.end_progress()
        print(text, file=self.out, flush=True)

    def warn(self, text: str) -> None:
        """A line about a problem (stderr)."""
        self.end_progress()
        print(text, file=self.err, flush=True)

    def progress(self, text: str) -> None:
        """A 'still waiting' line: rewritten in place on a terminal, else now and then."""
        if getattr(self.err, "isatty", lambda: False)():
            self.err.write(f"\r\033[K{text}")
            self.err.flush()
            self._progress_shown = True
            return
        now = time.monotonic()
        if now - self._last_progress >= self.progress_interval:
            self._last_progress = now
            print(text, file=self.err, flush=True)

    def end_progress(self) -> None:
        """Clear a progress line left on the terminal, so that the next line starts clean."""
        if self._progress_shown:
            self.err.write("\r\033[K")
            self.err.flush()
            self._progress_shown = False
