"""One wall-clock deadline shared by every phase of an optimization."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Deadline:
    """A point in time (``time.perf_counter`` seconds) by which a solve should end.

    Created once when :func:`~relaynet.optimize.solve` starts and passed down: each phase
    asks :meth:`left` and takes at most that, so the time limit counts everything.
    """

    limit_s: float
    end: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        """The deadline ``seconds`` from now."""
        return cls(float(seconds), time.perf_counter() + float(seconds))

    def left(self) -> float:
        """Seconds left (0 once the deadline has passed)."""
        return max(0.0, self.end - time.perf_counter())

    @property
    def expired(self) -> bool:
        """Whether the deadline has passed."""
        return self.left() <= 0.0
