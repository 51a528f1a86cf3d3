"""Memory: what this process uses, and the default cap a run stops at.

A search that outgrows the machine must end as ``incomplete (memory
limit)`` with what it found, not be killed by the kernel with nothing.  So
every run has a cap (``--max-memory``, default :func:`default_cap_mb`: half
of the memory this machine or its container gives, so the rest of the
machine, and a second run beside it, still work), checked while the model
compiles and while the search runs.
"""

from __future__ import annotations

import os
import resource
from pathlib import Path

SHARE = 0.5   # of the physical (or container) memory


def rss_mb() -> float:
    """Current resident memory of this process, in MiB."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:  # not Linux: fall back to the peak
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine_mb() -> int:
    """The memory this process may use at most: physical memory, or a smaller cgroup limit."""
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2**20
    except (ValueError, OSError):
        total = 4096
    for limit in (Path("/sys/fs/cgroup/memory.max"), Path("/sys/fs/cgroup/memory/memory.limit_in_bytes")):
        try:
            text = limit.read_text().strip()
        except OSError:
            continue
        if text.isdigit():
            total = min(total, int(text) // 2**20)
    return int(total)


def default_cap_mb() -> int:
    """The default ``--max-memory``: :data:`SHARE` of :func:`machine_mb`."""
    return max(256, int(machine_mb() * SHARE))
