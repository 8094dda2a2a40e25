"""Shared by the benchmarks: percentiles of measured times, and the machine they were measured on."""

from __future__ import annotations

import os
from pathlib import Path


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def machine() -> dict:
    """The CPU's model name, whether it has AVX-512 (the local model's first token is several times
    slower without it), the cores, and the load average when measured (other work on the machine)."""
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.is_file() else []

    def first(key: str) -> str:  # the first CPU's value
        pairs = (line.partition(":") for line in lines)
        return next((value.strip() for name, _, value in pairs if name.strip() == key), "")

    flags = first("flags").split()
    return {"cpu": first("model name") or "unknown", "avx512": "avx512f" in flags, "avx2": "avx2" in flags,
            "cores": os.cpu_count(), "load_average_1m": round(os.getloadavg()[0], 2)}
