"""How much CPU and memory the container may use, read from its cgroup.

os.cpu_count() reports the host's cores, not the task's share: on a Fargate
task of 0.25 vCPU it can say 2, and a server sized from it starts more
workers than the quota can feed and than the memory limit can hold.
"""

import math
import os
from dataclasses import dataclass
from pathlib import Path

CGROUP = Path("/sys/fs/cgroup")
# The memory budgeted per worker: well above what a worker adds under load, as
# measured by `make bench` in the template (cookiecutter-flask-ecs,
# benchmarks/results/latest.md; README.md's Sizing table has the memory per task
# size). The rest is headroom for request buffers and your own code.
WORKER_MEMORY_BYTES = 96 * 1024 * 1024
# Memory kept free for the server's main process and the page cache.
RESERVED_MEMORY_BYTES = 96 * 1024 * 1024


@dataclass(frozen=True)
class Limits:
    cpus: float
    memory_bytes: int | None


def read_limits(cgroup: Path = CGROUP) -> Limits:
    """Return the CPU and memory limits of this container (host's when unlimited)."""
    cpus = _cpu_quota(cgroup) or float(os.cpu_count() or 1)
    return Limits(cpus=cpus, memory_bytes=_memory_limit(cgroup))


def worker_count(limits: Limits) -> int:
    """Return how many server workers the limits can feed and hold.

    One worker per vCPU (its threads overlap the waits on I/O): more processes
    than the quota spend it in parallel and are then throttled for the rest of
    the CFS period, which lengthens the slowest responses (measured by `make
    bench` in the template; see serve.py). The memory limit caps the
    count, so that a burst of load cannot OOM-kill the task.
    """
    by_cpu = max(1, math.ceil(limits.cpus))
    if limits.memory_bytes is None:
        return by_cpu
    by_memory = (limits.memory_bytes - RESERVED_MEMORY_BYTES) // WORKER_MEMORY_BYTES
    return max(1, min(by_cpu, by_memory))


def _cpu_quota(cgroup: Path) -> float | None:
    # cgroup v2: "max 100000" or "25000 100000" in cpu.max
    fields = _read(cgroup / "cpu.max").split()
    if len(fields) == 2 and fields[0] != "max":
        return int(fields[0]) / int(fields[1])
    # cgroup v1: CFS quota and period, quota -1 when unlimited
    quota = _read(cgroup / "cpu" / "cpu.cfs_quota_us") or _read(cgroup / "cpu.cfs_quota_us")
    period = _read(cgroup / "cpu" / "cpu.cfs_period_us") or _read(cgroup / "cpu.cfs_period_us")
    if quota and period and int(quota) > 0:
        return int(quota) / int(period)
    return None


def _memory_limit(cgroup: Path) -> int | None:
    # v2 writes "max" when unlimited; v1 writes a huge number instead.
    raw = _read(cgroup / "memory.max") or _read(cgroup / "memory" / "memory.limit_in_bytes")
    if not raw or raw == "max" or int(raw) >= 2**60:
        return None
    return int(raw)


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""
