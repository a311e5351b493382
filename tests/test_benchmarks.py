"""The benchmark's parsing and report code (benchmarks/report.py); no Docker, no timing."""

import io
import json
import tarfile
import types
import typing
import zlib

import pytest
from conftest import MATRIX, OPTIONS, TEMPLATE, load_module

report = load_module(TEMPLATE / "benchmarks" / "report.py")

MiB = 1024 * 1024
COMBINATIONS = report.count_combinations(OPTIONS)
CONFIG = TEMPLATE / "benchmarks" / "config.json"
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


def load(rps, p99) -> report.Load:
    return report.Load(
        requests=int(rps * 10),
        rps=rps,
        p50_ms=p99 / 3,
        p99_ms=p99,
        max_ms=p99 * 2,
        errors=0,
        non_2xx=0,
    )


def size_run(cpu, memory, peak_mib, *, oom_kills=0, slow=None) -> report.SizeRun:
    return report.SizeRun(
        cpu=cpu,
        memory=memory,
        cpus_run=cpu / 1024,
        cpus_capped=False,
        model="gunicorn gevent 1x1000",
        derived=report.Derived(server="gunicorn gevent", workers=1, connections=1000),
        idle_bytes=40 * MiB,
        peak_bytes=peak_mib * MiB,
        oom_kills=oom_kills,
        loads=report.Loads(healthz=load(600, 90.0), api=load(300, 150.0)),
        slow=slow,
    )


def slow(clients, failed, p99, loaded, unloaded=1000.0) -> report.SlowClients:
    return report.SlowClients(
        clients=clients,
        probes=30,
        probes_failed=failed,
        probe_p99_ms=p99,
        unloaded_rps=unloaded,
        loaded_rps=loaded,
        client_endings={"sent": clients},
    )


def side(rps, p99, stop_s, dropped) -> report.Side:
    return report.Side(
        start_to_healthy_s=0.5,
        loads=report.BestLoads(
            healthz=report.best_round([load(rps, p99)]),
            api=report.best_round([load(rps / 2, p99 * 2)]),
        ),
        peak_bytes=50 * MiB,
        stop=report.Stop(seconds=stop_s, served=900, dropped=dropped, turned_away=3),
    )


def build(cold_s, warm_s, added_mib) -> report.Build:
    return report.Build(
        image="bench/test:1",
        cold_s=cold_s,
        warm_s=warm_s,
        added_bytes=added_mib * MiB,
        pulled_bytes=added_mib * MiB // 4,
        base_image="python:3.13-slim",
    )


@pytest.fixture
def results() -> report.Results:
    config = json.loads(CONFIG.read_text()) | {
        "compare_cpus": 1.0,
        "rounds": 2,
        "memory_target_fraction": 0.6,
    }
    data = report.Results(
        date="2025-01-01 00:00 UTC",
        machine=report.Machine(nproc=2, memory_bytes=24 * 2**30, kernel="6.1"),
        versions=report.Versions(
            docker_server="20.10",
            docker_client="28.2",
            cgroup="v2",
            buildx="buildx 0.29",
            wrk="wrk 4.1.0",
            python_host="3.11.7",
        ),
        config=config,
        static_command="pytest",
        static_tier=report.StaticTier(seconds=55.0, exit_code=0, summary="500 passed"),
        build=report.Builds(project=build(9.0, 1.0, 20), baseline=build(3.0, 2.0, 8)),
        api_route=report.ApiRoute(
            method="POST", path="/api/v1/greetings", label="POST /api/v1/greetings"
        ),
        comparison=report.Comparison(
            project=side(2600, 30.0, 0.9, 0), baseline=side(2000, 20.0, 10.2, 4)
        ),
        default_size_comparison=report.DefaultSizeComparison(
            size=report.Size(cpu=256, memory=512),
            project=report.SizeLoads(loads=side(800, 90.0, 1.0, 0)["loads"]),
            baseline=report.SizeLoads(loads=side(500, 80.0, 1.0, 0)["loads"]),
        ),
        slow_clients=report.SlowClientRuns(
            project=[slow(16, 0, 40.0, 900.0), slow(64, 0, 300.0, 800.0)],
            baseline=[slow(16, 3, None, 0.0), slow(64, 3, None, 0.0)],
        ),
        worker_models=[
            size_run(256, 512, 60, slow=slow(64, 0, 50.0, 900.0)) | {"model": "gunicorn sync 1x1"}
        ],
        sizing=[size_run(256, 512, 120), size_run(1024, 2048, 200)],
        targets=[],
    )
    data["targets"] = report.evaluate_targets(data, COMBINATIONS)
    return data


@pytest.fixture
def stored():
    """The result of the last `make bench` run, its targets judged again by today's code."""
    data = json.loads(STORED.read_text())
    data["targets"] = report.evaluate_targets(data, COMBINATIONS)
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


def mismatches(shape, value, where="results") -> list[str]:
    """Where value departs from shape: a key missing or undeclared, or a value of another type."""
    if typing.is_typeddict(shape):
        hints = typing.get_type_hints(shape)
        if not isinstance(value, dict):
            return [f"{where} is {value!r}, not {shape.__name__}"]
        wrong = [f"{where}.{key} is missing" for key in shape.__required_keys__ - value.keys()]
        wrong += [f"{where}.{key} is not declared" for key in value.keys() - hints.keys()]
        for key in sorted(hints.keys() & value.keys()):
            wrong += mismatches(hints[key], value[key], f"{where}.{key}")
        return sorted(wrong)
    if typing.get_origin(shape) is list:
        if not isinstance(value, list):
            return [f"{where} is {value!r}, not a list"]
        (item,) = typing.get_args(shape)
        return [w for i, v in enumerate(value) for w in mismatches(item, v, f"{where}[{i}]")]
    if typing.get_origin(shape) in (types.UnionType, typing.Union):
        arms = typing.get_args(shape)
        if value is None and type(None) in arms:
            return []
        found = [mismatches(arm, value, where) for arm in arms if arm is not type(None)]
        return [] if any(not wrong for wrong in found) else min(found, key=len)
    if typing.get_origin(shape) is dict:
        return [] if isinstance(value, dict) else [f"{where} is {value!r}, not a dict"]
    # JSON has one number type: a float field may read as an int, never as a bool.
    kinds = (int, float) if shape is float else typing.get_origin(shape) or shape
    if isinstance(value, kinds) and (shape is bool or not isinstance(value, bool)):
        return []
    return [f"{where} is {value!r}, not {shape.__name__}"]


def test_wrk_summary_line_becomes_rates_and_milliseconds():
    """The JSON line from wrk.lua gives requests/s, p99 in ms and summed socket errors."""
    assert report.parse_wrk(wrk_output()) == report.Load(
        requests=20000, rps=2000.0, p50_ms=4.0, p99_ms=12.5, max_ms=40.0, errors=3, non_2xx=0
    )


def test_wrk_output_without_the_summary_line_is_refused():
    """A wrk run that died before its done() hook says so instead of reporting zeros."""
    with pytest.raises(ValueError, match="no BENCH_RESULT line"):
        report.parse_wrk("unable to connect to 127.0.0.1:8000 Connection refused\n")


def test_best_round_keeps_the_fastest_and_the_spread():
    """On a shared machine the fastest round is the least disturbed; the spread is kept."""
    best = report.best_round([load(900, 20.0), load(1100, 25.0)])
    assert (best["rps"], best["p99_ms"], best["rounds_rps"]) == (1100, 25.0, [900, 1100])


@pytest.mark.parametrize("name", ["stored", "results"])
def test_results_have_the_declared_shape(name, request):
    """The stored run and the test fixture carry every key of report.Results, and no other."""
    assert mismatches(report.Results, request.getfixturevalue(name)) == []


def test_a_result_off_the_shape_is_named_by_its_path(stored):
    """A key run.py stopped writing, one the shape does not declare, or a wrong type is named."""
    del stored["comparison"]["project"]["stop"]["dropped"]
    stored["sizing"][0]["gpus"] = 1
    stored["sizing"][1]["cpus_capped"] = 0
    assert mismatches(report.Results, stored) == [
        "results.comparison.project.stop.dropped is missing",
        "results.sizing[0].gpus is not declared",
        "results.sizing[1].cpus_capped is 0, not bool",
    ]


def test_targets_are_judged_from_the_numbers(results):
    """Each target's verdict follows from the measured values, not from a fixed answer."""
    held = {t["target"]: t["held"] for t in results["targets"]}
    assert held["/healthz requests/s >= 1.0x baseline at 1 vCPU (aim 1.5x)"] is True  # 1.3x
    assert held["/healthz p99 <= 1.25x baseline at 1 vCPU"] is False  # 1.5x
    assert held["/healthz requests/s >= 1.0x baseline at the default size (aim 1.5x)"] is True
    assert held["/healthz p99 <= 1.25x baseline at the default size"] is True  # 90 of 80
    assert held["POST /api/v1/greetings requests/s >= 0.7x its hand-validated baseline"] is True
    assert held["warm rebuild after a code edit <= baseline + 0.3 s"] is True  # 1.0 s, 2.0 s
    assert held["image bytes added over the base <= 1.5x baseline"] is False  # 20 of 8 MiB
    assert held["16 slow clients: failed /healthz probes == 0"] is True
    assert held["16 slow clients: /healthz probe p99 < 250 ms"] is True  # 40 ms
    assert held["64 slow clients: /healthz probe p99 < 250 ms"] is False  # 300 ms
    assert held["64 slow clients: fast /healthz requests/s > 0.5x unloaded"] is True  # 0.8x
    assert held["default size peak memory < 60% of 512 MiB"] is True  # 120 of 512
    assert held["no OOM kill at the default size"] is True
    results["sizing"][0] = size_run(256, 512, 400, oom_kills=1)
    results["slow_clients"]["project"][0] = slow(16, 2, None, 100.0)
    results["build"]["project"]["warm_s"] = 2.5
    results["build"]["project"]["added_bytes"] = 12 * MiB
    again = {t["target"]: t for t in report.evaluate_targets(results, COMBINATIONS)}
    assert again["default size peak memory < 60% of 512 MiB"]["held"] is False
    assert again["no OOM kill at the default size"]["measured"] == "1 OOM kills"
    assert again["16 slow clients: failed /healthz probes == 0"]["held"] is False
    assert again["16 slow clients: /healthz probe p99 < 250 ms"]["measured"] == "n/a"
    assert again["16 slow clients: fast /healthz requests/s > 0.5x unloaded"]["held"] is False
    assert again["warm rebuild after a code edit <= baseline + 0.3 s"]["measured"] == "+0.5 s"
    assert again["image bytes added over the base <= 1.5x baseline"]["held"] is True  # 1.5x


def test_a_limit_is_written_once(results, monkeypatch):
    """Raising a target's limit changes its label and its verdict together."""
    raised = report.TARGETS[0]._replace(limit=1.5)
    monkeypatch.setattr(report, "TARGETS", (raised,))
    assert report.evaluate_targets(results, COMBINATIONS) == [
        {
            "target": "/healthz requests/s >= 1.5x baseline at 1 vCPU (aim 1.5x)",
            "measured": "1.3x",
            "held": False,
        }
    ]


def test_static_tier_target_holds_only_for_a_passing_run(results):
    """A failing tier shows its time but misses the target; --skip-static leaves no row."""
    label = "static tier, 4 combinations, ~60 s on 2 cores"
    results["static_tier"]["exit_code"] = 1
    verdicts = {t["target"]: t for t in report.evaluate_targets(results, 4)}
    assert verdicts[label] == {"target": label, "measured": "55.0 s", "held": False}
    del results["static_tier"]
    assert label not in {t["target"] for t in report.evaluate_targets(results, 4)}


def test_combinations_multiply_the_choices_of_the_options_that_shape_the_repo(monkeypatch):
    """A list's values and a bool's two count; text, cookiecutter's keys, exclusions do not."""
    options = {
        "project_name": "Orders",
        "python_version": ["3.13", "3.12"],
        "use_volume": False,
        "ci_provider": ["github", "gitlab", "none"],
        "__prompts__": {"use_volume": "A volume?"},
        "_copy_without_render": [],
    }
    assert report.count_combinations(options) == 12
    monkeypatch.setattr(report, "NOT_SHAPING_OPTIONS", frozenset({"ci_provider"}))
    assert report.count_combinations(options) == 4


def test_sizing_table_has_one_row_per_size(results):
    """The sizing table names each Fargate size, its workers, memory share and speed."""
    lines = report.render_sizing(results).splitlines()
    assert len(lines) == 2 + len(results["sizing"])
    assert (
        "| 256 / 512 (0.25 vCPU, 512 MiB) | gunicorn gevent 1x1000 | 40 | 120 (23%) | 600 |"
        in lines[2]
    )
    assert "| 1024 / 2048 (1 vCPU, 2048 MiB) |" in lines[3]


def test_sizing_table_refuses_jinja_delimiters(results):
    """The generated README is a Jinja template: the table must not carry its delimiters."""
    results["api_route"]["label"] = "GET /items/{{id}}"
    with pytest.raises(ValueError, match="Jinja"):
        report.render_sizing(results)


def test_markdown_report_carries_every_section(results):
    """The report shows provenance, the comparison with ratios, targets and sizes."""
    text = report.render_markdown(results, COMBINATIONS)
    assert "2 cores, 24 GiB, Linux 6.1" in text
    assert "| GET /healthz requests/s | 2,600 | 2,000 | 1.30x |" in text
    assert "| /healthz p99 <= 1.25x baseline at 1 vCPU | 1.5x | **no** |" in text
    assert "| GET /healthz requests/s | 800 | 500 | 1.60x |" in text  # the default size
    assert "| generated | 64 | 0 of 30 | 300 | 800 of 1,000 |" in text
    assert "| docker init baseline | 16 | 3 of 30 | n/a | 0 of 1,000 |" in text
    assert "| gunicorn sync 1x1 |" in text
    assert f"## Template static test tier ({COMBINATIONS} combinations)" in text
    assert "500 passed" in text


def test_stored_result_renders_the_readme_blocks(stored):
    """README.md gets the comparisons, every server model and the targets; the generated, sizes."""
    blocks = report.render_readme_blocks(stored)
    comparison, default, slow, targets, models, sizing = tables(
        report.render_markdown(stored, COMBINATIONS)
    )
    assert tables(blocks["comparison"]) == [comparison, default, slow, models, targets]
    assert tables(blocks["sizing"]) == [sizing]
    assert blocks["comparison"].startswith(report.render_provenance(stored) + "\n\n|")
    assert blocks["sizing"].startswith(report.render_sizing_provenance(stored) + "\n\n|")


def test_the_generated_readme_names_no_fact_of_the_benchmark_machine(stored):
    """The sizing block tells how it was measured, not on what: no cores, memory or kernel."""
    machine = stored["machine"]
    sizing = report.render_readme_blocks(stored)["sizing"]
    assert "make bench" in sizing
    assert stored["date"] in sizing
    for fact in (f"{machine['nproc']} cores", " GiB,", machine["kernel"], "Docker "):
        assert fact not in sizing


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
    comparison, default, slow, targets, models, sizing = tables(
        report.render_markdown(stored, COMBINATIONS)
    )
    api = stored["api_route"]["label"]
    assert [row[0] for row in comparison[2:]] == [
        "GET /healthz requests/s",
        "GET /healthz p99 ms",
        f"{api} requests/s",
        f"{api} p99 ms",
        "cold build s",
        "warm rebuild s (code edit)",
        "image MiB added over the base",
        "image MiB a task pulls (added layers, gzip)",
        "start to healthy s",
        "docker stop s",
        "requests dropped in flight at stop (served / turned away after)",
        "peak memory MiB",
    ]
    assert [row[0] for row in targets[2:]] == [t["target"] for t in stored["targets"]]
    assert len(default) == 2 + 4  # both routes' requests/s and p99
    assert len(slow) == 2 + sum(len(runs) for runs in stored["slow_clients"].values())
    assert len(models) == 2 + len(stored["worker_models"])
    assert len(sizing) == 2 + len(stored["sizing"])
    for header, rule, *rows in (comparison, default, slow, targets, models, sizing):
        assert rule == ["---"] * len(header)
        assert all(len(row) == len(header) for row in rows)


def test_pulled_bytes_are_the_added_layers_gzipped(tmp_path):
    """Only the layers past the base's count, each as gzip's default level compresses it."""
    layers = {"base/layer.tar": b"base " * 5000, "app/layer.tar": bytes(range(256)) * 400}
    archive = tmp_path / "image.tar"
    with tarfile.open(archive, "w") as tar:
        manifest = json.dumps([{"Layers": list(layers)}]).encode()
        for name, data in {"manifest.json": manifest, **layers}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    packer = zlib.compressobj(6, zlib.DEFLATED, 31)
    expected = len(packer.compress(layers["app/layer.tar"]) + packer.flush())
    assert report.gzip_bytes_of_added_layers(archive, base_layers=1) == expected
    assert report.gzip_bytes_of_added_layers(archive, base_layers=2) == 0


def test_the_benchmark_counts_the_combinations_the_tests_bake():
    """The report's combination count is the template tests' matrix, derived the same way."""
    assert len(MATRIX) == COMBINATIONS
