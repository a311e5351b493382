"""Turn benchmark measurements into numbers, verdicts and Markdown tables (no I/O here).

The shape of one run's results is declared here, once: run.py fills it phase by
phase and writes it as results/latest.json, these functions read it.
"""

import json
import math
import operator
import re
import tarfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple, NotRequired, TypedDict

MiB = 1024 * 1024
RESULT_PREFIX = "BENCH_RESULT "
# Delimiters Jinja would try to render: the generated README is a template.
JINJA_DELIMITERS = ("{{", "{%", "{#")


# ---- the shape of results/latest.json: config.json as read, then what run.py measured


class Wrk(TypedDict):
    threads: int
    connections: int
    duration_s: int
    timeout_s: int


class Route(TypedDict):
    method: str
    path: str
    body: NotRequired[dict]


class Size(TypedDict):
    cpu: int  # Fargate CPU units: 1024 is one vCPU
    memory: int  # MiB


class Variant(TypedDict):
    """A server model to compare: the image's own (no command), or another server or setting."""

    label: str
    env: NotRequired[dict[str, str]]
    command: NotRequired[list[str]]  # {package} and {port} are filled in


class WorkerModels(TypedDict):
    _comment: NotRequired[str]
    sizes: list[Size]
    pip: list[str]  # what the variants image adds for the other servers
    variants: list[Variant]


class SlowClientsConfig(TypedDict):
    _comment: NotRequired[str]
    counts: list[int]
    body_bytes: int
    bytes_per_s: int
    seconds: int
    probe_interval_s: float
    probe_timeout_s: float
    fast_connections: int


class Config(TypedDict):
    _comment: NotRequired[str]
    wrk: Wrk
    rounds: int
    compare_cpus: float
    compare_memory_mib: int
    api_routes: list[Route]
    api_token: str  # API_TOKENS of the project's containers, sent on every request
    default_size: Size
    slow_clients: SlowClientsConfig
    fargate_sizes: list[Size]
    worker_models: WorkerModels
    memory_target_fraction: float


class Machine(TypedDict):
    nproc: int
    memory_bytes: int
    kernel: str


class Versions(TypedDict):
    docker_server: str
    docker_client: str
    cgroup: str
    buildx: str
    wrk: str
    python_host: str


class StaticTier(TypedDict):
    seconds: float
    exit_code: int
    summary: str  # pytest's last line


class Build(TypedDict):
    image: str
    cold_s: float
    warm_s: float  # after a code-only edit
    added_bytes: int  # over base_image
    # The layers added over base_image, gzipped as a push stores them: what a task pulls.
    pulled_bytes: NotRequired[int]
    base_image: str


class Builds(TypedDict):
    project: Build
    baseline: Build


class ApiRoute(Route):
    label: str  # "POST /api/v1/greetings"


class Load(TypedDict):
    """One wrk run on one route."""

    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int  # socket errors and timeouts
    non_2xx: int


class BestLoad(Load):
    rounds_rps: list[float]


class Loads(TypedDict):
    healthz: Load
    api: Load


class BestLoads(TypedDict):
    healthz: BestLoad
    api: BestLoad


class Stop(TypedDict):
    seconds: float
    served: int
    dropped: int  # open before the stop began, never answered
    turned_away: int  # opened after it


class Side(TypedDict):
    """One service in the side-by-side comparison."""

    start_to_healthy_s: float
    loads: BestLoads
    peak_bytes: int
    stop: Stop


class Comparison(TypedDict):
    project: Side
    baseline: Side


class SizeLoads(TypedDict):
    loads: BestLoads


class DefaultSizeComparison(TypedDict):
    size: Size
    project: SizeLoads
    baseline: SizeLoads


class SlowClients(TypedDict):
    """One scenario: clients trickling bodies while /healthz is probed and loaded."""

    clients: int
    probes: int
    probes_failed: int  # no 200 within the probe timeout, as a health check fails
    probe_p99_ms: float | None
    unloaded_rps: float  # /healthz with no slow client
    loaded_rps: float  # /healthz while they trickle
    client_endings: dict[str, int]


class SlowClientRuns(TypedDict):
    project: list[SlowClients]  # one per config.json's slow_clients counts
    baseline: list[SlowClients]


class Derived(TypedDict):
    """What the generated launcher derives for a size (its --describe)."""

    server: str
    workers: int
    connections: int


class SizeRun(Size):
    """One task size with one server model (a variant, or what the launcher derives)."""

    cpus_run: float
    cpus_capped: bool  # the host has fewer cores than the size
    model: str
    derived: Derived | None  # None for a variant with a command of its own
    idle_bytes: int
    peak_bytes: int
    oom_kills: int  # the cgroup's oom_kill events, whether or not a worker was replaced
    loads: Loads
    slow: SlowClients | None  # at the default size only


class Verdict(TypedDict):
    target: str
    measured: str
    held: bool


class Results(TypedDict):
    date: str
    machine: Machine
    versions: Versions
    config: Config
    static_command: str
    static_tier: NotRequired[StaticTier]  # not with --skip-static
    build: Builds
    api_route: ApiRoute
    comparison: Comparison
    default_size_comparison: DefaultSizeComparison
    slow_clients: SlowClientRuns
    worker_models: list[SizeRun]
    sizing: list[SizeRun]  # config.json's fargate_sizes, in order
    targets: list[Verdict]


def parse_wrk(output: str) -> Load:
    """Read the JSON line benchmarks/wrk.lua prints into requests/s, p99 and error counts."""
    for line in output.splitlines():
        if line.startswith(RESULT_PREFIX):
            raw = json.loads(line[len(RESULT_PREFIX) :])
            break
    else:
        raise ValueError(f"no {RESULT_PREFIX.strip()} line in wrk's output:\n{output[-2000:]}")
    seconds = raw["duration_us"] / 1e6
    return {
        "requests": raw["requests"],
        "rps": round(raw["requests"] / seconds, 1) if seconds else 0.0,
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "max_ms": round(raw["max_us"] / 1000, 2),
        "errors": sum(
            raw[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts")
        ),
        "non_2xx": raw["non_2xx"],
    }


def best_round(rounds: list[Load]) -> BestLoad:
    """Keep the round with the most requests/s: on a shared machine the others lost CPU to noise."""
    best = max(rounds, key=lambda r: r["rps"])
    spread = [r["rps"] for r in rounds]
    return {**best, "rounds_rps": spread}


# Options whose values leave the generated repo's files as they are: left out of
# the combinations that the template's static test tier bakes.
NOT_SHAPING_OPTIONS: frozenset[str] = frozenset()


def count_combinations(options: dict) -> int:
    """Multiply the choices of each option that shapes the repo (a list's values, a bool's two)."""
    return math.prod(
        2 if isinstance(default, bool) else len(default)
        for name, default in options.items()
        if isinstance(default, bool | list)
        and not name.startswith("_")  # cookiecutter's own settings
        and name not in NOT_SHAPING_OPTIONS
    )


def gzip_bytes_of_added_layers(archive: Path, base_layers: int) -> int:
    """Gzip each layer of a `docker save` archive past the base's first base_layers; sum them.

    Registries store layers gzipped (a push compresses at gzip's default level),
    so this is what a task pulls when the base image is already on its host.
    """
    total = 0
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        for name in manifest[0]["Layers"][base_layers:]:
            layer = tar.extractfile(name)
            packer = zlib.compressobj(6, zlib.DEFLATED, 31)  # 31: a gzip stream
            while chunk := layer.read(1 << 20):
                total += len(packer.compress(chunk))
            total += len(packer.flush())
    return total


def ratio(project: float | None, baseline: float | None) -> float | None:
    if not project or not baseline:
        return None
    return round(project / baseline, 2)


SIDES = ("project", "baseline")
COMPARISONS = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
}


class Target(NamedTuple):
    """One of issue 12's targets: a reading of one run, compared with a limit.

    The label is name with {op} and {limit} filled in from the row ({run} is the
    whole run, {combinations} the template's), so a limit is written once. A name
    without {limit} states it in words: "no slower than baseline" is a ratio <= 1.0.
    """

    name: str
    get: Callable[[Results], Any]  # the reading; None where the run has none
    comparison: str  # a key of COMPARISONS
    limit: Any  # or a function of the run, for a limit that config.json sets
    fmt: str  # how the reading is shown
    needs: str = "comparison"  # the part of the run it reads: no row where that is absent
    provided: Callable[[Results], bool] | None = None  # a condition beside the reading


def _ratio_of(part: str, route: str, key: str) -> Callable[[Results], float | None]:
    """The project's reading over the baseline's, in the comparison part of the run."""
    return lambda r: ratio(*(r[part][side]["loads"][route][key] for side in SIDES))


def _slow(index: int, read: Callable[[SlowClients], Any]) -> Callable[[Results], Any]:
    """A reading of the project's index-th slow-client scenario."""
    return lambda r: read(r["slow_clients"]["project"][index])


def _kept_share(scenario: SlowClients) -> float:
    return round(scenario["loaded_rps"] / scenario["unloaded_rps"], 2)


TARGETS = (
    Target(
        "/healthz requests/s {op} {limit}x baseline at 1 vCPU (aim 1.5x)",
        _ratio_of("comparison", "healthz", "rps"),
        ">=",
        1.0,
        "{}x",
    ),
    Target(
        "/healthz p99 {op} {limit}x baseline at 1 vCPU",
        _ratio_of("comparison", "healthz", "p99_ms"),
        "<=",
        1.25,
        "{}x",
    ),
    Target(
        "/healthz requests/s {op} {limit}x baseline at the default size (aim 1.5x)",
        _ratio_of("default_size_comparison", "healthz", "rps"),
        ">=",
        1.0,
        "{}x",
        needs="default_size_comparison",
    ),
    Target(
        "/healthz p99 {op} {limit}x baseline at the default size",
        _ratio_of("default_size_comparison", "healthz", "p99_ms"),
        "<=",
        1.25,
        "{}x",
        needs="default_size_comparison",
    ),
    Target(
        "{run[api_route][label]} requests/s {op} {limit}x its hand-validated baseline",
        _ratio_of("comparison", "api", "rps"),
        ">=",
        0.7,
        "{}x",
    ),
    # One set per scenario of config.json's slow_clients counts (two: 16 and 64).
    *(
        target
        for index, clients in enumerate(
            f"{{run[slow_clients][project][{i}][clients]}}" for i in range(2)
        )
        for target in (
            Target(
                f"{clients} slow clients: failed /healthz probes {{op}} {{limit}}",
                _slow(index, lambda s: s["probes_failed"]),
                "==",
                0,
                "{} failed",
                needs="slow_clients",
            ),
            Target(
                f"{clients} slow clients: /healthz probe p99 {{op}} {{limit}} ms",
                _slow(index, lambda s: s["probe_p99_ms"]),
                "<",
                250,
                "{} ms",
                needs="slow_clients",
            ),
            Target(
                f"{clients} slow clients: fast /healthz requests/s {{op}} {{limit}}x unloaded",
                _slow(index, _kept_share),
                ">",
                0.5,
                "{}x",
                needs="slow_clients",
            ),
        )
    ),
    Target(
        "image bytes added over the base {op} {limit}x baseline",
        lambda r: ratio(
            r["build"]["project"]["added_bytes"], r["build"]["baseline"]["added_bytes"]
        ),
        "<=",
        1.5,
        "{}x",
    ),
    Target(
        "warm rebuild after a code edit {op} baseline + {limit} s",
        lambda r: round(r["build"]["project"]["warm_s"] - r["build"]["baseline"]["warm_s"], 2),
        "<=",
        0.3,
        "{:+} s",
    ),
    Target(
        "start to healthy {op} {limit} s",
        lambda r: r["comparison"]["project"]["start_to_healthy_s"],
        "<",
        1,
        "{} s",
    ),
    Target(
        "docker stop {op} {limit} s",
        lambda r: r["comparison"]["project"]["stop"]["seconds"],
        "<",
        2,
        "{} s",
    ),
    Target(
        "no request dropped during docker stop",
        lambda r: r["comparison"]["project"]["stop"]["dropped"],
        "==",
        0,
        "{} dropped",
    ),
    Target(
        "static tier, {combinations} combinations, ~{limit} s on 2 cores",
        lambda r: r["static_tier"]["seconds"],
        "<=",
        60,
        "{} s",
        needs="static_tier",
        provided=lambda r: r["static_tier"]["exit_code"] == 0,
    ),
    Target(
        "default size peak memory {op} {limit:.0%} of {run[sizing][0][memory]} MiB",
        lambda r: round(r["sizing"][0]["peak_bytes"] / (r["sizing"][0]["memory"] * MiB), 3),
        "<",
        lambda r: r["config"]["memory_target_fraction"],
        "{:.1%}",
        needs="sizing",
    ),
    Target(
        "no OOM kill at the default size",
        lambda r: r["sizing"][0]["oom_kills"],
        "==",
        0,
        "{} OOM kills",
        needs="sizing",
    ),
)


def evaluate_targets(results: Results, combinations: int) -> list[Verdict]:
    """Check the issue's targets against one run's numbers (combinations: of the template)."""
    verdicts = []
    for target in TARGETS:
        if not results.get(target.needs):
            continue
        value = target.get(results)
        limit = target.limit(results) if callable(target.limit) else target.limit
        held = (
            value is not None
            and COMPARISONS[target.comparison](value, limit)
            and (target.provided is None or target.provided(results))
        )
        verdicts.append(
            Verdict(
                target=target.name.format(
                    op=target.comparison, limit=limit, run=results, combinations=combinations
                ),
                measured="n/a" if value is None else target.fmt.format(value),
                held=bool(held),
            )
        )
    return verdicts


def _ms(load: Load | None) -> str:
    return "n/a" if not load else f"{load['p99_ms']:.1f}"


def _rps(load: Load | None) -> str:
    return "n/a" if not load else f"{load['rps']:,.0f}"


def _mib(value: int | None) -> str:
    return "n/a" if value is None else f"{value / MiB:.0f}"


def _x(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def render_comparison(results: Results) -> str:
    """The generated service against docker init's baseline, with ratios and target verdicts."""
    cmp, build = results["comparison"], results["build"]
    p, b = cmp["project"], cmp["baseline"]
    api = results["api_route"]["label"]
    rows = []
    for key, label in (("healthz", "GET /healthz"), ("api", api)):
        lp, lb = p["loads"][key], b["loads"][key]
        rows.append([f"{label} requests/s", _rps(lp), _rps(lb), _x(ratio(lp["rps"], lb["rps"]))])
        rows.append([f"{label} p99 ms", _ms(lp), _ms(lb), _x(ratio(lp["p99_ms"], lb["p99_ms"]))])
    for key, label in (("cold_s", "cold build s"), ("warm_s", "warm rebuild s (code edit)")):
        bp, bb = build["project"][key], build["baseline"][key]
        rows.append([label, f"{bp:.1f}", f"{bb:.1f}", _x(ratio(bp, bb))])
    ap, ab = build["project"]["added_bytes"], build["baseline"]["added_bytes"]
    rows.append(["image MiB added over the base", _mib(ap), _mib(ab), _x(ratio(ap, ab))])
    gp, gb = (build[side].get("pulled_bytes") for side in SIDES)
    rows.append(
        ["image MiB a task pulls (added layers, gzip)", _mib(gp), _mib(gb), _x(ratio(gp, gb))]
    )
    sp, sb = p["start_to_healthy_s"], b["start_to_healthy_s"]
    rows.append(["start to healthy s", f"{sp:.2f}", f"{sb:.2f}", _x(ratio(sp, sb))])
    tp, tb = p["stop"], b["stop"]
    rows.append(
        [
            "docker stop s",
            f"{tp['seconds']:.2f}",
            f"{tb['seconds']:.2f}",
            _x(ratio(tp["seconds"], tb["seconds"])),
        ]
    )
    rows.append(
        [
            "requests dropped in flight at stop (served / turned away after)",
            f"{tp['dropped']} ({tp['served']} / {tp['turned_away']})",
            f"{tb['dropped']} ({tb['served']} / {tb['turned_away']})",
            "",
        ]
    )
    mp, mb = p["peak_bytes"], b["peak_bytes"]
    rows.append(["peak memory MiB", _mib(mp), _mib(mb), _x(ratio(mp, mb))])
    cpus = results["config"]["compare_cpus"]
    header = [
        "measure",
        f"generated (--cpus={cpus:g})",
        f"docker init baseline (--cpus={cpus:g})",
        "ratio",
    ]
    return _table(header, rows)


def render_targets(results: Results) -> str:
    rows = [
        [t["target"], t["measured"], "yes" if t["held"] else "**no**"] for t in results["targets"]
    ]
    return _table(["target", "measured", "held"], rows)


def render_default_size(results: Results) -> str:
    """Both services at the default Fargate size: /healthz and the API route."""
    part = results["default_size_comparison"]
    size, api = part["size"], results["api_route"]["label"]
    rows = []
    for key, label in (("healthz", "GET /healthz"), ("api", api)):
        lp, lb = part["project"]["loads"][key], part["baseline"]["loads"][key]
        rows.append([f"{label} requests/s", _rps(lp), _rps(lb), _x(ratio(lp["rps"], lb["rps"]))])
        rows.append([f"{label} p99 ms", _ms(lp), _ms(lb), _x(ratio(lp["p99_ms"], lb["p99_ms"]))])
    cpus = size["cpu"] / 1024
    header = [
        "measure",
        f"generated ({cpus:g} vCPU, {size['memory']} MiB)",
        "docker init baseline (same)",
        "ratio",
    ]
    return _table(header, rows)


def _slow_cells(scenario: SlowClients | None) -> list[str]:
    if not scenario:
        return ["", "", ""]
    p99 = scenario["probe_p99_ms"]
    return [
        f"{scenario['probes_failed']} of {scenario['probes']}",
        "n/a" if p99 is None else f"{p99:.0f}",
        f"{scenario['loaded_rps']:,.0f} of {scenario['unloaded_rps']:,.0f}",
    ]


def render_slow_clients(results: Results) -> str:
    """Each service at the default size while slow clients trickle request bodies."""
    config = results["config"]["slow_clients"]
    rows = [
        [role_label, str(scenario["clients"]), *_slow_cells(scenario)]
        for role, role_label in (("project", "generated"), ("baseline", "docker init baseline"))
        for scenario in results["slow_clients"][role]
    ]
    header = [
        f"service ({config['bytes_per_s']} B/s bodies, {config['seconds']} s)",
        "slow clients",
        "/healthz probes failed",
        "probe p99 ms",
        "fast /healthz req/s (of unloaded)",
    ]
    return _table(header, rows)


def render_worker_models(results: Results) -> str:
    api = results["api_route"]["label"]
    slow_clients = max(results["config"]["slow_clients"]["counts"])
    rows = []
    for run in results["worker_models"]:
        size = f"{run['cpu'] / 1024:g} vCPU / {run['memory']} MiB"
        h, a = run["loads"]["healthz"], run["loads"]["api"]
        rows.append(
            [
                size,
                run["model"],
                _rps(h),
                _ms(h),
                _rps(a),
                _ms(a),
                _mib(run["peak_bytes"]),
                *_slow_cells(run["slow"]),
            ]
        )
    header = [
        "task size",
        "server model",
        "/healthz req/s",
        "p99 ms",
        f"{api} req/s",
        "p99 ms",
        "peak MiB",
        f"{slow_clients} slow clients: probes failed",
        "probe p99 ms",
        "fast req/s (of unloaded)",
    ]
    return _table(header, rows)


def render_sizing(results: Results) -> str:
    """One row per Fargate size, for the generated README (refuses Jinja delimiters)."""
    api = results["api_route"]["label"]
    rows = []
    for run in results["sizing"]:
        cpus = run["cpu"] / 1024
        size = f"{run['cpu']} / {run['memory']} ({cpus:g} vCPU, {run['memory']} MiB)"
        if run.get("cpus_capped"):
            size += f" [capped at {run['cpus_run']:g} vCPU: host]"
        share = run["peak_bytes"] / (run["memory"] * MiB)
        h, a = run["loads"]["healthz"], run["loads"]["api"]
        rows.append(
            [
                size,
                run["model"],
                _mib(run["idle_bytes"]),
                f"{_mib(run['peak_bytes'])} ({share:.0%})",
                _rps(h),
                _ms(h),
                _rps(a),
                _ms(a),
                "yes" if run["oom_kills"] else "no",
            ]
        )
    header = [
        "fargate_cpu / fargate_memory",
        "server, workers x connections",
        "idle MiB",
        "peak MiB (of task)",
        "/healthz req/s",
        "p99 ms",
        f"{api} req/s",
        "p99 ms",
        "OOM kill",
    ]
    table = _table(header, rows)
    for delimiter in JINJA_DELIMITERS:
        if delimiter in table:
            raise ValueError(f"the sizing table contains {delimiter!r}, which Jinja would render")
    return table


def render_provenance(results: Results) -> str:
    m, v, w = results["machine"], results["versions"], results["config"]["wrk"]
    return (
        f"Measured {results['date']} by `make bench` on {m['nproc']} cores, "
        f"{m['memory_bytes'] / 2**30:.0f} GiB, Linux {m['kernel']}; Docker {v['docker_server']}, "
        f"{v['wrk']}; wrk {w['threads']} threads, {w['connections']} connections, "
        f"{w['duration_s']} s per run, best of {results['config']['rounds']} rounds for the "
        "comparison. The machine is shared with other jobs: compare ratios, not absolute numbers."
    )


def render_sizing_provenance(results: Results) -> str:
    """Say how the sizes were measured, without the template's own machine: a generated repo's
    readers run elsewhere, and latest.md names the machine for those who compare runs."""
    w = results["config"]["wrk"]
    return (
        f"Measured {results['date']} by `make bench` in the template (cookiecutter-flask-ecs; "
        "its benchmarks/results/latest.md names the machine and versions): wrk with "
        f"{w['connections']} connections, {w['duration_s']} s per run, each size under its "
        "task's CPU and memory limits. Compare the sizes with each other: absolute figures "
        "depend on the machine."
    )


def render_readme_blocks(results: Results) -> dict[str, str]:
    """What goes between the markers: the comparison in README.md, sizes in the generated one."""
    return {
        "comparison": "\n\n".join(
            [
                render_provenance(results),
                render_comparison(results),
                render_default_size(results),
                render_slow_clients(results),
                render_worker_models(results),
                render_targets(results),
            ]
        ),
        "sizing": "\n\n".join([render_sizing_provenance(results), render_sizing(results)]),
    }


def render_markdown(results: Results, combinations: int) -> str:
    """The whole report: provenance, comparison, targets, worker models, sizing, test tier."""
    static = results.get("static_tier")
    static_text = (
        "not measured (--skip-static)"
        if not static
        else f"{static['seconds']:.1f} s, exit code {static['exit_code']}: {static['summary']}"
    )
    return (
        "\n\n".join(
            [
                "# Benchmark results",
                render_provenance(results),
                "## Generated service vs docker init's baseline",
                render_comparison(results),
                "## At the default task size",
                render_default_size(results),
                "## Slow clients (request bodies trickled, /healthz probed and loaded)",
                render_slow_clients(results),
                "## Targets",
                render_targets(results),
                "## Server models (API route and /healthz, same app)",
                render_worker_models(results),
                "## Fargate sizes (defaults derived from the quotas)",
                render_sizing(results),
                f"## Template static test tier ({combinations} combinations)",
                f"`{results['static_command']}`: {static_text}",
            ]
        )
        + "\n"
    )


def replace_between(text: str, start: str, end: str, block: str) -> str:
    """Replace what lies between the start and end markers with block; both must be present."""
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if len(pattern.findall(text)) != 1:
        raise ValueError(f"expected exactly one {start} ... {end} pair")
    return pattern.sub(lambda _: f"{start}\n{block}\n{end}", text)
