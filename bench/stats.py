"""Latency summaries: nearest-rank percentiles over a list of durations in seconds."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass


@dataclass(frozen=True)
class Summary:
    runs: int
    p50_ms: float
    p95_ms: float
    min_ms: float
    max_ms: float
    mean_ms: float


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile: the smallest value with at least `fraction` of the values at or below it."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def summarize(seconds: list[float]) -> Summary:
    ms = [s * 1000 for s in seconds]
    return Summary(
        runs=len(ms),
        p50_ms=statistics.median(ms),
        p95_ms=percentile(ms, 0.95),
        min_ms=min(ms),
        max_ms=max(ms),
        mean_ms=statistics.fmean(ms),
    )
