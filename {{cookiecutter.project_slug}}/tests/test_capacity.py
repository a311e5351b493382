import pytest

from {{ cookiecutter.package_name }}.capacity import Limits, read_limits, worker_count

MiB = 1024 * 1024


def write_files(root, files):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.mark.parametrize(
    ("files", "cpus", "memory"),
    [
        ({"cpu.max": "25000 100000\n", "memory.max": "536870912\n"}, 0.25, 512 * MiB),
        ({"cpu.max": "200000 100000", "memory.max": "max"}, 2.0, None),
        (
            {
                "cpu/cpu.cfs_quota_us": "50000",
                "cpu/cpu.cfs_period_us": "100000",
                "memory/memory.limit_in_bytes": "1073741824",
            },
            0.5,
            1024 * MiB,
        ),
        ({"memory/memory.limit_in_bytes": str(2**63 - 4096)}, None, None),
    ],
    ids=["cgroup-v2", "cgroup-v2-unlimited-memory", "cgroup-v1", "cgroup-v1-unlimited"],
)
def test_limits_are_read_from_the_cgroup(tmp_path, monkeypatch, files, cpus, memory):
    """The quota comes from cgroup v2 or v1 files; unlimited falls back to the host."""
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    limits = read_limits(write_files(tmp_path, files))
    assert limits.cpus == (cpus if cpus is not None else 8.0)
    assert limits.memory_bytes == memory


def test_missing_cgroup_falls_back_to_the_host(tmp_path, monkeypatch):
    """Outside a container the host's CPU count is used and memory is unbounded."""
    monkeypatch.setattr("os.cpu_count", lambda: 4)
    assert read_limits(tmp_path / "absent") == Limits(cpus=4.0, memory_bytes=None)


@pytest.mark.parametrize(
    ("cpus", "memory_mib", "workers"),
    [
        (0.25, 512, 1),  # the default Fargate size: one worker, its threads do the rest
        (0.5, 1024, 1),
        (1.0, 2048, 1),
        (1.5, 3072, 2),  # a part of a vCPU still gets a worker
        (2.0, 4096, 2),
        (8.0, 512, 4),  # memory caps a large CPU quota
        (4.0, 256, 1),  # never fewer than one
        (16.0, None, 16),
    ],
)
def test_worker_count_follows_cpu_and_memory(cpus, memory_mib, workers):
    """Workers are one per vCPU, capped by what the memory limit can hold."""
    memory = memory_mib * MiB if memory_mib else None
    assert worker_count(Limits(cpus=cpus, memory_bytes=memory)) == workers
