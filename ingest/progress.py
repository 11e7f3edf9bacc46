"""Progress lines for long stages: done/total, items per second and the time left.

Lines are throttled (one every ``every_seconds``) so that calling ``advance`` per file costs nothing
measurable, and handed to ``emit`` (the Dagster log, stderr, ...), so this module needs no Dagster.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class Progress:
    def __init__(
        self,
        stage: str,
        total: int,
        emit: Callable[[str], None],
        unit: str = "files",
        every_seconds: float = 5.0,
    ):
        self.stage, self.total, self.emit, self.unit = stage, total, emit, unit
        self.every_seconds = every_seconds
        self.done = 0
        self.started = self._last = time.monotonic()

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if now - self._last >= self.every_seconds and self.done < self.total:
            self._last = now
            self.emit(self.line(now))

    def finish(self) -> None:
        """The closing line, only for stages long enough to have printed progress."""
        now = time.monotonic()
        if now - self.started >= self.every_seconds:
            self.emit(self.line(now))

    def line(self, now: float | None = None) -> str:
        elapsed = max((now or time.monotonic()) - self.started, 1e-9)
        rate = self.done / elapsed
        text = f"{self.stage}: {self.done:,}/{self.total:,} {self.unit}, {rate:,.0f} {self.unit}/s"
        if self.done < self.total and rate > 0:
            text += f", about {_duration((self.total - self.done) / rate)} left"
        else:
            text += f", done in {_duration(elapsed)}"
        return text


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
