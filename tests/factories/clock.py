"""The instant the factories date their records at when a test does not give its own.

Fixed, never the wall clock: a factory's record is the same whatever day the suite runs
(`.ci/timetravel` proves it), and a test that needs another instant passes ``now=``."""

from __future__ import annotations

from datetime import UTC, datetime

# A Monday morning in Paris, in the year the factories' plans start (1 January 2026).
REFERENCE_NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
