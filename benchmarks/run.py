"""Measure the generated service against docker init's baseline, in one run on one engine.

Run through `make bench`, which installs wrk and starts the engine first. Writes
benchmarks/results/latest.{json,md} and regenerates the tables between the
bench markers in README.md and in the generated project's README.md. main() runs
PHASES in order; each fills in its part of the results.
"""

import argparse
import contextlib
import http.client
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import report
import slow_clients

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
VENV_BIN = Path(sys.executable).parent
# Where each of report.render_readme_blocks() goes: a README and the markers around it.
READMES = {
    "comparison": (ROOT / "README.md", "<!-- bench:start -->", "<!-- bench:end -->"),
    "sizing": (
        ROOT / "{{cookiecutter.project_slug}}" / "README.md",
        "<!-- bench:sizing:start -->",
        "<!-- bench:sizing:end -->",
    ),
}
STATIC_TIER = [
    ".venv/bin/pytest",
    "-n",
    "auto",
    "-q",
    "-m",
    "not container and not deploy",
    "tests/",
]
RUN_ID = f"{os.getpid()}"


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def sh(
    *args, env=None, timeout=600, check=True, cwd=None, input_text=None
) -> subprocess.CompletedProcess:
    """Run a command, capturing its output; on failure show the tail of it."""
    done = subprocess.run(
        [str(a) for a in args],
        capture_output=True,
        text=True,
        input=input_text,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        check=False,
        cwd=cwd,
    )
    if check and done.returncode != 0:
        command = " ".join(map(str, args))
        sys.exit(
            f"command failed ({done.returncode}): {command}\n{(done.stdout + done.stderr)[-3000:]}"
        )
    return done


# ---- images


def bake(workdir: Path) -> Path:
    sh(VENV_BIN / "cookiecutter", "--no-input", "--output-dir", workdir, ROOT)
    (project,) = [p for p in workdir.iterdir() if p.is_dir()]
    return project


def build(context: Path, tag: str, *, cold: bool, build_args=()) -> float:
    """Build an image and return the seconds it took (cold: no layer cache)."""
    args = ["docker", "build", "--progress=plain", "--tag", tag, *build_args]
    if cold:
        args.append("--no-cache")
    started = time.perf_counter()
    sh(*args, context, env={"DOCKER_BUILDKIT": "1"})
    return round(time.perf_counter() - started, 2)


def image_bytes(image: str) -> int:
    return int(sh("docker", "image", "inspect", "--format", "{{.Size}}", image).stdout)


def pulled_bytes(image: str, base_image: str) -> int:
    """The gzipped size of the layers image adds over base_image (report.gzip_bytes_of_...)."""
    layers = sh("docker", "image", "inspect", "--format", "{{json .RootFS.Layers}}", base_image)
    with tempfile.TemporaryDirectory() as scratch:
        archive = Path(scratch) / "image.tar"
        sh("docker", "save", "--output", str(archive), image)
        return report.gzip_bytes_of_added_layers(archive, len(json.loads(layers.stdout)))


def edit_code(path: Path) -> None:
    """A code-only change, as a developer's edit would be."""
    with path.open("a") as file:
        file.write(f"\n# benchmark edit {time.time_ns()}\n")


# ---- containers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Container:
    """One container published on 127.0.0.1, removed when the run ends."""

    def __init__(self, image, role, *, port, cpus, memory_mib, extra=(), command=(), env=None):
        self.name = f"bench-{role}-{RUN_ID}"
        self.port = port
        self.host_port = free_port()
        cpus = min(cpus, os.cpu_count() or 1)
        variables = [f"--env={name}={value}" for name, value in (env or {}).items()]
        started = time.perf_counter()
        sh(
            "docker", "run", "--detach", "--name", self.name,
            "--cpus", cpus, "--memory", f"{memory_mib}m", "--memory-swap", f"{memory_mib}m",
            "--publish", f"127.0.0.1:{self.host_port}:{port}",
            *variables, *extra, image, *command,
        )  # fmt: skip
        self.start_to_healthy_s = self._wait_healthy(started)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.host_port}{path}"

    def _wait_healthy(self, started: float, timeout: float = 60) -> float:
        while time.perf_counter() - started < timeout:
            with (
                contextlib.suppress(OSError, http.client.HTTPException),
                urllib.request.urlopen(self.url("/healthz"), timeout=1) as response,
            ):
                if response.status == 200:
                    return round(time.perf_counter() - started, 3)
            if self.inspect("{{.State.Running}}") != "true":
                break
            time.sleep(0.01)
        sys.exit(f"{self.name} never answered /healthz:\n{self.logs()[-3000:]}")

    def inspect(self, template: str) -> str:
        return sh("docker", "inspect", "--format", template, self.name, check=False).stdout.strip()

    def logs(self) -> str:
        done = sh("docker", "logs", self.name, check=False)
        return done.stdout + done.stderr

    def memory(self) -> dict:
        """The cgroup's memory use now and at its peak (v2 files, else v1)."""
        script = (
            "cat /sys/fs/cgroup/memory.current /sys/fs/cgroup/memory.peak 2>/dev/null"
            " || cat /sys/fs/cgroup/memory/memory.usage_in_bytes"
            " /sys/fs/cgroup/memory/memory.max_usage_in_bytes"
        )
        current, peak = sh("docker", "exec", self.name, "sh", "-c", script).stdout.split()
        return {"current": int(current), "peak": int(peak)}

    def derived_model(self, package: str) -> dict:
        """What the generated server's launcher derives inside this container (its --describe)."""
        done = sh("docker", "exec", self.name, "python", "-m", f"{package}.serve", "--describe")
        return json.loads(done.stdout)

    def oom_kills(self) -> int:
        """The kernel's OOM kills in the container's cgroup: a killed worker, even if replaced."""
        # cgroup v2's memory.events, else v1's memory.oom_control: both have "oom_kill N".
        script = (
            "cat /sys/fs/cgroup/memory.events 2>/dev/null"
            " || cat /sys/fs/cgroup/memory/memory.oom_control"
        )
        events = sh("docker", "exec", self.name, "sh", "-c", script).stdout
        counts = dict(line.split()[:2] for line in events.splitlines() if line.strip())
        return int(counts.get("oom_kill", 0))

    def stop_under_load(self, path: str = "/healthz", clients: int = 8) -> report.Stop:
        """Time `docker stop` while clients send requests; count requests cut off mid-way.

        A request is dropped when its connection was open before the stop began
        and no response came back. Connections opened after it are turned away
        (refused, or reset from the listen backlog): on ECS the load balancer
        has deregistered the task before SIGTERM, so none arrive then.
        The clients talk to the container's bridge address, not the published
        port: docker-proxy accepts on the host side even when nothing listens
        behind it. Each request opens its own connection, so no kept-alive
        connection blurs which side closed first.
        """
        ip = self.inspect("{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}")
        counts = {"served": 0, "dropped": 0, "turned_away": 0}
        lock, stopping = threading.Lock(), threading.Event()
        stop_began = [float("inf")]

        def client():
            while not stopping.is_set():
                opened = time.perf_counter()
                connection = http.client.HTTPConnection(ip, self.port, timeout=30)
                try:
                    connection.connect()
                    connection.request("GET", path, headers={"Connection": "close"})
                    connection.getresponse().read()
                    outcome = "served"
                except (OSError, http.client.HTTPException):
                    outcome = "dropped" if opened < stop_began[0] else "turned_away"
                finally:
                    connection.close()
                with lock:
                    counts[outcome] += 1
                if outcome == "turned_away":
                    time.sleep(0.01)

        workers = [threading.Thread(target=client) for _ in range(clients)]
        for worker in workers:
            worker.start()
        time.sleep(1)
        stop_began[0] = time.perf_counter()
        # Docker's default stop timeout (10 s) before SIGKILL, as a user's `docker stop`.
        sh("docker", "stop", self.name)
        seconds = round(time.perf_counter() - stop_began[0], 3)
        stopping.set()
        for worker in workers:
            worker.join()
        return {"seconds": seconds, **counts}

    def remove(self) -> None:
        sh("docker", "rm", "--force", self.name, check=False)


def load(
    container: Container, route: report.Route, wrk: report.Wrk, token: str = ""
) -> report.Load:
    """Load one route with wrk for a fixed time at fixed connections."""
    body = json.dumps(route["body"]) if "body" in route else ""
    done = sh(
        "wrk", "--threads", wrk["threads"], "--connections", wrk["connections"],
        "--duration", f"{wrk['duration_s']}s", "--timeout", f"{wrk['timeout_s']}s",
        "--script", BENCH / "wrk.lua", container.url(route["path"]),
        env={"BENCH_METHOD": route["method"], "BENCH_BODY": body, "BENCH_TOKEN": token},
        timeout=wrk["duration_s"] + 60,
    )  # fmt: skip
    return report.parse_wrk(done.stdout)


def answered_route(
    container: Container, candidates: list[report.Route], token: str
) -> report.ApiRoute:
    """Take the first configured route the generated service answers with a 2xx."""
    for route in candidates:
        data = json.dumps(route["body"]).encode() if "body" in route else None
        headers = {"Authorization": f"Bearer {token}"}
        if data:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(
            container.url(route["path"]), data=data, method=route["method"], headers=headers
        )
        with contextlib.suppress(OSError), urllib.request.urlopen(request, timeout=5) as response:
            if 200 <= response.status < 300:
                return {**route, "label": f"{route['method']} {route['path']}"}
    sys.exit(f"the generated service answers none of the api_routes in config.json: {candidates}")


# ---- one run's options and shared state


@dataclass
class Run:
    """What the phases of one run share: its options, the results so far, the images built."""

    args: argparse.Namespace
    config: report.Config
    combinations: int  # of the template's options, as its static test tier bakes them
    # empty at first: each phase fills in its part
    results: report.Results = field(default_factory=lambda: cast(report.Results, {}))
    cleanup: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    # by role, project and baseline: what to build (context, file to edit, build args)
    contexts: dict[str, tuple[Path, Path, tuple[str, ...]]] = field(default_factory=dict)
    images: dict[str, str] = field(default_factory=dict)  # and the tags built
    port: int = 0  # the generated service's container_port
    python_version: str = ""  # the baked project's, for both images
    package: str = ""  # the baked project's package_name

    def project(self, role, size: report.Size, *, image="project", command=(), env=None):
        """Start the generated service as the task runs it: read-only root, a token to call it."""
        variables = {"API_TOKENS": self.config["api_token"], **(env or {})}
        return Container(
            self.images[image], role, port=self.port, cpus=size["cpu"] / 1024,
            memory_mib=size["memory"], extra=("--read-only", "--tmpfs", "/tmp"),
            command=command, env=variables,
        )  # fmt: skip

    def baseline(self, role, size: report.Size):
        return Container(
            self.images["baseline"], role, port=8000, cpus=size["cpu"] / 1024,
            memory_mib=size["memory"],
        )  # fmt: skip


def configure(argv: list[str] | None = None) -> Run:
    """Read the command line and config.json; refuse to start without wrk."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=BENCH / "config.json")
    parser.add_argument("--out", type=Path, default=BENCH / "results")
    parser.add_argument("--duration", type=int, help="seconds per wrk run (overrides config)")
    parser.add_argument("--skip-static", action="store_true", help="do not time the test tier")
    parser.add_argument("--no-readme", action="store_true", help="leave the READMEs alone")
    args = parser.parse_args(argv)
    config = json.loads(args.config.read_text())
    if args.duration:
        config["wrk"]["duration_s"] = args.duration
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: run `make bench`, which installs it (apt-get install wrk)")
    options = json.loads((ROOT / "cookiecutter.json").read_text())
    return Run(args, config, report.count_combinations(options))


# ---- the phases of one run, in order


def describe_run(run: Run) -> None:
    """Record the date, the machine, the tool versions and the configuration."""
    step("describe the machine and tools")
    machine: report.Machine = {
        "nproc": os.cpu_count(),
        "memory_bytes": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"),
        "kernel": platform.release(),
    }
    server = json.loads(sh("docker", "version", "--format", "{{json .}}").stdout)
    info = json.loads(sh("docker", "info", "--format", "{{json .}}").stdout)
    versions: report.Versions = {
        "docker_server": server["Server"]["Version"],
        "docker_client": server["Client"]["Version"],
        "cgroup": f"v{info.get('CgroupVersion', '?')}",
        "buildx": sh("docker", "buildx", "version", check=False).stdout.strip(),
        "wrk": sh("wrk", "--version", check=False).stdout.splitlines()[0].split(" [")[0],
        "python_host": platform.python_version(),
    }
    run.results.update(
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        machine=machine,
        versions=versions,
        config=run.config,
        static_command=" ".join([*STATIC_TIER[:-2], f'"{STATIC_TIER[-2]}"', STATIC_TIER[-1]]),
    )


def measure_static_tier(run: Run) -> None:
    """Time the template's static test tier over all combinations, once."""
    if run.args.skip_static:
        return
    step(f"time the template's static test tier ({run.combinations} combinations)")
    path = f"{ROOT / '.venv/bin'}:{ROOT / '.venv-checkov/bin'}:{os.environ['PATH']}"
    started = time.perf_counter()
    done = sh(*STATIC_TIER, cwd=ROOT, env={"PATH": path}, check=False, timeout=1800)
    seconds = round(time.perf_counter() - started, 1)
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    run.results["static_tier"] = {
        "seconds": seconds,
        "exit_code": done.returncode,
        "summary": lines[-1] if lines else "",
    }


def bake_default_project(run: Run) -> None:
    """Bake the default project and copy the baseline beside it, each with a file to edit."""
    workdir = Path(run.cleanup.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
    step("bake the default project")
    project = bake(workdir / "baked")
    options = json.loads((project / ".cookiecutter.json").read_text())
    options = options.get("cookiecutter", options)
    run.port, run.python_version = int(options["container_port"]), options["python_version"]
    run.package = options["package_name"]
    baseline = workdir / "baseline"
    shutil.copytree(BENCH / "baseline", baseline)
    run.contexts = {
        "project": (project, project / "src" / options["package_name"] / "health.py", ()),
        "baseline": (
            baseline,
            baseline / "app.py",
            ("--build-arg", f"PYTHON_VERSION={run.python_version}"),
        ),
    }


def measure_builds(run: Run) -> None:
    """Build each image cold, then warm after a code edit; the images go when the run ends."""
    base_image = f"python:{run.python_version}-slim"
    base = image_bytes(base_image)
    run.results["build"] = {}
    for role, (context, edited, args) in run.contexts.items():
        tag = run.images[role] = f"bench/{role}:{RUN_ID}"
        step(f"cold build of the {role} image")
        cold = build(context, tag, cold=True, build_args=args)
        edit_code(edited)
        step(f"warm rebuild of the {role} image after a code edit")
        warm = build(context, tag, cold=False, build_args=args)
        run.results["build"][role] = {
            "image": tag,
            "cold_s": cold,
            "warm_s": warm,
            "added_bytes": image_bytes(tag) - base,
            "pulled_bytes": pulled_bytes(tag, base_image),
            "base_image": base_image,
        }
    run.cleanup.callback(sh, "docker", "rmi", *run.images.values(), check=False)


def choose_api_route(run: Run) -> None:
    """Find, in a probe container, the API route of config.json to load."""
    step("find the API route to load")
    probe = run.project("probe", {"cpu": 1024, "memory": 1024})
    try:
        token = run.config["api_token"]
        run.results["api_route"] = answered_route(probe, run.config["api_routes"], token)
    finally:
        probe.remove()


def _load_side_by_side(run: Run, size: report.Size, prefix: str) -> dict:
    """Start both services at one size; load both routes in alternation, best round kept.

    Return each side's started container and best loads; the caller removes them.
    """
    api = run.results["api_route"]
    routes = {"healthz": {"method": "GET", "path": "/healthz"}, "api": api}
    token = run.config["api_token"]
    containers = {}
    for role in report.SIDES:
        step(f"start the {role} at {size['cpu']}/{size['memory']}")
        start = run.project if role == "project" else run.baseline
        containers[role] = start(f"{prefix}-{role}", size)
    rounds = {(role, key): [] for role in containers for key in routes}
    for n in range(run.config["rounds"]):
        for key, route in routes.items():
            for role, container in containers.items():
                step(f"round {n + 1}: wrk {route['method']} {route['path']} on the {role}")
                rounds[role, key].append(load(container, route, run.config["wrk"], token))
    best = {
        role: {key: report.best_round(rounds[role, key]) for key in routes} for role in containers
    }
    return {role: (containers[role], best[role]) for role in containers}


def measure_comparison(run: Run) -> None:
    """Both services at config.json's comparison size: loads, memory, start and stop."""
    config = run.config
    size = {"cpu": round(config["compare_cpus"] * 1024), "memory": config["compare_memory_mib"]}
    step(f"compare with the baseline on GET /healthz and {run.results['api_route']['label']}")
    sides = {}
    try:
        sides = _load_side_by_side(run, size, "cmp")
        run.results["comparison"] = {}
        for role, (container, loads) in sides.items():
            peak = container.memory()["peak"]
            step(f"docker stop the {role} under load")
            run.results["comparison"][role] = {
                "start_to_healthy_s": container.start_to_healthy_s,
                "loads": loads,
                "peak_bytes": peak,
                "stop": container.stop_under_load(),
            }
    finally:
        for container, _ in sides.values():
            container.remove()


def measure_default_size_comparison(run: Run) -> None:
    """Both services at the default Fargate size, where most tasks run."""
    size = run.config["default_size"]
    step(f"compare with the baseline at the default size {size['cpu']}/{size['memory']}")
    sides = {}
    try:
        sides = _load_side_by_side(run, size, "default")
        run.results["default_size_comparison"] = {
            "size": size,
            **{role: {"loads": loads} for role, (_, loads) in sides.items()},
        }
    finally:
        for container, _ in sides.values():
            container.remove()


def _slow_scenario(run: Run, container: Container, clients: int) -> report.SlowClients:
    config = run.config["slow_clients"]
    route = run.results["api_route"]
    fast = {**run.config["wrk"], "connections": config["fast_connections"]}

    def fast_load(seconds: int) -> float:
        return load(
            container, {"method": "GET", "path": "/healthz"}, {**fast, "duration_s": seconds}
        )["rps"]

    unloaded = fast_load(5)
    headers = {"Authorization": f"Bearer {run.config['api_token']}"}
    measured = slow_clients.measure(
        "127.0.0.1", container.host_port, route["path"], headers, clients, config, fast_load
    )
    return {**measured, "unloaded_rps": unloaded}


def measure_slow_clients(run: Run) -> None:
    """Both services at the default size while slow clients trickle request bodies."""
    size = run.config["default_size"]
    run.results["slow_clients"] = {}
    for role in report.SIDES:
        start = run.project if role == "project" else run.baseline
        runs = []
        for clients in run.config["slow_clients"]["counts"]:
            step(f"{clients} slow clients on the {role} at {size['cpu']}/{size['memory']}")
            container = start(f"slow-{role}", size)
            try:
                runs.append(_slow_scenario(run, container, clients))
            finally:
                container.remove()
        run.results["slow_clients"][role] = runs


def build_variants_image(run: Run) -> None:
    """The project image with the packages the other server models need, for their rows only."""
    extra = run.config["worker_models"]["pip"]
    tag = run.images["variants"] = f"bench/variants:{RUN_ID}"
    step(f"build the variants image (project image + {' '.join(extra)})")
    # The project image has no pip: a virtualenv at the same path, in a stage of the same
    # base, installs them, and its site-packages and commands are laid over the project's.
    dockerfile = (
        f"FROM python:{run.python_version}-slim AS extra\n"
        "RUN python -m venv /opt/venv\n"
        f"RUN /opt/venv/bin/pip install --no-cache-dir {' '.join(extra)}\n"
        f"FROM {run.images['project']}\n"
        "COPY --from=extra /opt/venv/lib/ /opt/venv/lib/\n"
        "COPY --from=extra /opt/venv/bin/ /opt/venv/bin/\n"
    )
    sh("docker", "build", "--tag", tag, "-", input_text=dockerfile, timeout=900)
    run.cleanup.callback(sh, "docker", "rmi", tag, check=False)


def measure_worker_models(run: Run) -> None:
    """Load each server model of config.json at each of its sizes; slow clients at the default."""
    models = run.config["worker_models"]
    run.results["worker_models"] = []
    for size in models["sizes"]:
        for variant in models["variants"]:
            step(f"server model {variant['label']} at {size['cpu']}/{size['memory']}")
            slow = size == run.config["default_size"]
            measured = measure_size(run, size, role="model", variant=variant, slow=slow)
            run.results["worker_models"].append(measured)


def measure_fargate_sizes(run: Run) -> None:
    """Load each Fargate size with the server model the launcher derives for it."""
    run.results["sizing"] = []
    for size in run.config["fargate_sizes"]:
        step(f"Fargate size {size['cpu']}/{size['memory']} with the derived defaults")
        run.results["sizing"].append(measure_size(run, size, role="size"))


def measure_size(
    run: Run, size: report.Size, *, role, variant: report.Variant | None = None, slow=False
) -> report.SizeRun:
    """One task size: idle memory, loads on both routes, peak memory, OOM kills."""
    variant = variant or {"label": ""}
    command = [
        part.format(package=run.package, port=run.port) for part in variant.get("command", [])
    ]
    image = "variants" if command else "project"
    container = run.project(role, size, image=image, command=command, env=variant.get("env"))
    try:
        time.sleep(2)  # let every worker finish booting before idle is read
        idle = container.memory()["current"]
        wrk, token = run.config["wrk"], run.config["api_token"]
        loads = {
            "healthz": load(container, {"method": "GET", "path": "/healthz"}, wrk, token),
            "api": load(container, run.results["api_route"], wrk, token),
        }
        peak = container.memory()["peak"]
        oom = container.oom_kills() + (container.inspect("{{.State.OOMKilled}}") == "true")
        derived = {} if command else container.derived_model(run.package)
        label = variant["label"] or f"{derived['server']} {derived['workers']}x{derived['connections']}"
        measured: report.SizeRun = {
            **size,
            "cpus_run": min(size["cpu"] / 1024, os.cpu_count() or 1),
            "cpus_capped": size["cpu"] / 1024 > (os.cpu_count() or 1),
            "model": label,
            "derived": derived or None,
            "idle_bytes": idle,
            "peak_bytes": peak,
            "oom_kills": oom,
            "loads": loads,
            "slow": None,
        }
    finally:
        container.remove()
    if slow:
        clients = max(run.config["slow_clients"]["counts"])
        step(f"{clients} slow clients on {label}")
        container = run.project(role, size, image=image, command=command, env=variant.get("env"))
        try:
            measured["slow"] = _slow_scenario(run, container, clients)
        finally:
            container.remove()
    return measured


def judge_targets(run: Run) -> None:
    """Judge the issue's targets from the numbers measured."""
    run.results["targets"] = report.evaluate_targets(run.results, run.combinations)


def write_results(run: Run) -> None:
    """Write results/latest.json and latest.md."""
    run.args.out.mkdir(parents=True, exist_ok=True)
    (run.args.out / "latest.json").write_text(json.dumps(run.results, indent=2) + "\n")
    (run.args.out / "latest.md").write_text(report.render_markdown(run.results, run.combinations))


def write_readmes(run: Run) -> None:
    """Rewrite the tables between the bench markers of both READMEs (not with --no-readme)."""
    if run.args.no_readme:
        return
    for name, block in report.render_readme_blocks(run.results).items():
        readme, start, end = READMES[name]
        readme.write_text(report.replace_between(readme.read_text(), start, end, block))


def print_report(run: Run) -> None:
    """Print the report that latest.md holds."""
    print(report.render_markdown(run.results, run.combinations))


PHASES = (
    describe_run,
    measure_static_tier,
    bake_default_project,
    measure_builds,
    choose_api_route,
    measure_comparison,
    measure_default_size_comparison,
    measure_slow_clients,
    build_variants_image,
    measure_worker_models,
    measure_fargate_sizes,
    judge_targets,
    write_results,
    write_readmes,
    print_report,
)


def main() -> None:
    run = configure()
    with run.cleanup:  # removes the images, however the run ends
        for phase in PHASES:
            phase(run)


if __name__ == "__main__":
    main()
