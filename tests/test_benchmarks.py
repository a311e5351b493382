"""The benchmark's parsing and report code (benchmarks/report.py); no Docker, no timing."""

import importlib.util
import json

import pytest
from conftest import TEMPLATE

_spec = importlib.util.spec_from_file_location("report", TEMPLATE / "benchmarks" / "report.py")
report = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(report)

MiB = 1024 * 1024
STORED = TEMPLATE / "benchmarks" / "results" / "latest.json"


def wrk_output(**fields) -> str:
    raw = {
        "requests": 20000,
        "duration_us": 10_000_000,
        "p50_us": 4000,
        "p99_us": 12500,
        "max_us": 40000,
        "connect_errors": 0,
        "read_errors": 1,
        "write_errors": 0,
        "timeouts": 2,
        "non_2xx": 0,
    } | fields
    return f"Running 10s test @ http://127.0.0.1:8000/healthz\n{report.RESULT_PREFIX}{json.dumps(raw)}\n"


def load(rps, p99):
    return {"rps": rps, "p99_ms": p99, "p50_ms": p99 / 3, "errors": 0, "non_2xx": 0}


def size_run(cpu, memory, peak_mib, *, oom=False, boots=1):
    return {
        "cpu": cpu,
        "memory": memory,
        "worker_class": "gthread",
        "workers": 1,
        "threads": 4,
        "worker_boots": boots,
        "idle_bytes": 40 * MiB,
        "peak_bytes": peak_mib * MiB,
        "oom_killed": oom,
        "loads": {"healthz": load(600, 90.0), "api": load(300, 150.0)},
    }


@pytest.fixture
def results():
    def side(rps, p99, stop_s, dropped):
        return {
            "start_to_healthy_s": 0.5,
            "loads": {"healthz": load(rps, p99), "api": load(rps / 2, p99 * 2)},
            "peak_bytes": 50 * MiB,
            "stop": {"seconds": stop_s, "served": 900, "dropped": dropped, "turned_away": 3},
        }

    data = {
        "date": "2025-01-01 00:00 UTC",
        "machine": {"nproc": 2, "memory_bytes": 24 * 2**30, "kernel": "6.1"},
        "versions": {"docker_server": "20.10", "wrk": "wrk 4.1.0"},
        "config": {
            "compare_cpus": 1.0,
            "rounds": 2,
            "memory_target_fraction": 0.6,
            "wrk": {"threads": 2, "connections": 32, "duration_s": 10},
        },
        "api_route": {
            "method": "POST",
            "path": "/api/v1/greetings",
            "label": "POST /api/v1/greetings",
        },
        "comparison": {"project": side(2600, 30.0, 0.9, 0), "baseline": side(2000, 20.0, 10.2, 4)},
        "build": {
            "project": {"cold_s": 9.0, "warm_s": 1.0, "added_bytes": 20 * MiB},
            "baseline": {"cold_s": 3.0, "warm_s": 2.0, "added_bytes": 8 * MiB},
        },
        "static_tier": {"seconds": 55.0, "exit_code": 0, "summary": "500 passed"},
        "static_command": "pytest",
        "worker_models": [size_run(256, 512, 60) | {"worker_class": "sync", "threads": 1}],
        "sizing": [size_run(256, 512, 120), size_run(1024, 2048, 200) | {"workers": 2}],
    }
    data["targets"] = report.evaluate_targets(data)
    return data


@pytest.fixture
def stored():
    """The result of the last `make bench` run, its targets judged again by today's code."""
    data = json.loads(STORED.read_text())
    data["targets"] = report.evaluate_targets(data)
    return data


def tables(text: str) -> list[list[list[str]]]:
    """Each Markdown table in text, as rows of cells (the header and the rule included)."""
    found, previous = [], ""
    for line in text.splitlines():
        if line.startswith("|"):
            if not previous.startswith("|"):
                found.append([])
            found[-1].append([cell.strip() for cell in line[1:-1].split("|")])
        previous = line
    return found


def test_wrk_summary_line_becomes_rates_and_milliseconds():
    """The JSON line from wrk.lua gives requests/s, p99 in ms and summed socket errors."""
    parsed = report.parse_wrk(wrk_output())
    assert parsed["rps"] == 2000.0
    assert (parsed["p50_ms"], parsed["p99_ms"], parsed["max_ms"]) == (4.0, 12.5, 40.0)
    assert (parsed["errors"], parsed["non_2xx"]) == (3, 0)


def test_wrk_output_without_the_summary_line_is_refused():
    """A wrk run that died before its done() hook says so instead of reporting zeros."""
    with pytest.raises(ValueError, match="no BENCH_RESULT line"):
        report.parse_wrk("unable to connect to 127.0.0.1:8000 Connection refused\n")


def test_best_round_keeps_the_fastest_and_the_spread():
    """On a shared machine the fastest round is the least disturbed; the spread is kept."""
    best = report.best_round([load(900, 20.0), load(1100, 25.0)])
    assert (best["rps"], best["p99_ms"], best["rounds_rps"]) == (1100, 25.0, [900, 1100])


def test_targets_are_judged_from_the_numbers(results):
    """Each target's verdict follows from the measured values, not from a fixed answer."""
    held = {t["target"]: t["held"] for t in results["targets"]}
    assert held["/healthz requests/s >= 1.0x baseline (aim 1.3x)"] is True  # 1.3x
    assert held["/healthz p99 <= 1.25x baseline"] is False  # 1.5x
    assert held["warm rebuild no slower than baseline"] is True
    assert held["default size peak memory < 60% of 512 MiB"] is True  # 120 of 512
    assert held["no OOM kill, no worker restarted"] is True
    results["sizing"][0] = size_run(256, 512, 400, boots=2)
    again = {t["target"]: t for t in report.evaluate_targets(results)}
    assert again["default size peak memory < 60% of 512 MiB"]["held"] is False
    assert again["no OOM kill, no worker restarted"]["measured"] == "worker restarted"


def test_sizing_table_has_one_row_per_size(results):
    """The sizing table names each Fargate size, its workers, memory share and speed."""
    lines = report.render_sizing(results).splitlines()
    assert len(lines) == 2 + len(results["sizing"])
    assert "| 256 / 512 (0.25 vCPU, 512 MiB) | gthread 1x4 | 40 | 120 (23%) | 600 |" in lines[2]
    assert "gthread 2x4" in lines[3]


def test_sizing_table_refuses_jinja_delimiters(results):
    """The generated README is a Jinja template: the table must not carry its delimiters."""
    results["api_route"]["label"] = "GET /items/{{id}}"
    with pytest.raises(ValueError, match="Jinja"):
        report.render_sizing(results)


def test_markdown_report_carries_every_section(results):
    """The report shows provenance, the comparison with ratios, targets and sizes."""
    text = report.render_markdown(results)
    assert "2 cores, 24 GiB, Linux 6.1" in text
    assert "| GET /healthz requests/s | 2,600 | 2,000 | 1.30x |" in text
    assert "| /healthz p99 <= 1.25x baseline | 1.5x | **no** |" in text
    assert "500 passed" in text


def test_replace_between_rewrites_only_the_marked_block():
    """The text outside the markers is kept byte for byte."""
    text = "intro\n<!-- a -->\nold\n<!-- b -->\noutro\n"
    assert report.replace_between(text, "<!-- a -->", "<!-- b -->", "new") == (
        "intro\n<!-- a -->\nnew\n<!-- b -->\noutro\n"
    )
    with pytest.raises(ValueError, match="exactly one"):
        report.replace_between("no markers", "<!-- a -->", "<!-- b -->", "new")


@pytest.mark.parametrize(
    ("readme", "start", "end"),
    [
        ("README.md", "<!-- bench:start -->", "<!-- bench:end -->"),
        (
            "{{cookiecutter.project_slug}}/README.md",
            "<!-- bench:sizing:start -->",
            "<!-- bench:sizing:end -->",
        ),
    ],
    ids=["template-readme", "generated-readme"],
)
def test_readmes_carry_one_pair_of_markers(readme, start, end):
    """`make bench` can rewrite each README's table: one start and one end marker each."""
    text = (TEMPLATE / readme).read_text()
    assert text.count(start) == 1 and text.count(end) == 1
    assert text.index(start) < text.index(end)


def test_stored_result_renders_tables_a_row_per_measure(stored):
    """The stored run renders every measure compared and a row per target, run and size."""
    comparison, targets, models, sizing = tables(report.render_markdown(stored))
    api = stored["api_route"]["label"]
    assert [row[0] for row in comparison[2:]] == [
        "GET /healthz requests/s",
        "GET /healthz p99 ms",
        f"{api} requests/s",
        f"{api} p99 ms",
        "cold build s",
        "warm rebuild s (code edit)",
        "image MiB added over the base",
        "start to healthy s",
        "docker stop s",
        "requests dropped in flight at stop (served / turned away after)",
        "peak memory MiB",
    ]
    assert [row[0] for row in targets[2:]] == [t["target"] for t in stored["targets"]]
    assert len(models) == 2 + len(stored["worker_models"])
    assert len(sizing) == 2 + len(stored["sizing"])
    for header, rule, *rows in (comparison, targets, models, sizing):
        assert rule == ["---"] * len(header)
        assert all(len(row) == len(header) for row in rows)
