"""The built image holds exactly its lock, all of it imported, and no installer.

Covering set: every Python version with a base image on this engine (3.12 has
none here and skips). The development stack (compose.override.yaml) runs the same image.
"""

import json
import uuid

import pytest
import test_containers
from conftest import PACKAGE, PROJECT_TEMPLATE, choices, load_module, matrix_params
from packaging.markers import Marker
from packaging.utils import canonicalize_name
from test_containers import docker

pytestmark = pytest.mark.container
engine = test_containers.engine
UNREACHABLE_DATABASE = {
    "DATABASE_HOST": "127.0.0.1",
    "DATABASE_PORT": "1",
    "DATABASE_NAME": "app",
    "DATABASE_USER": "app",
    "DATABASE_PASSWORD": "unused",
}

# The generated repo's own lock reader, so both suites read a lock alike.
read_lock = load_module(PROJECT_TEMPLATE / "tests" / "test_requirements_lock.py").read_lock

COVERING_SET = [
    {"python_version": version, "use_volume": False, "ci_provider": "github"}
    for version in choices("python_version")
] + [
    # The database's driver and migrations, with the default bake's Python.
    {"python_version": "3.13", "use_volume": False, "ci_provider": "github", "database": "postgres"}
]

# Run in the image: what packaging's markers are evaluated against, the installed
# distributions, and the site-packages entries each distribution's RECORD owns.
INSPECT = """
import importlib.metadata as metadata, json, os, platform, sys, sysconfig
info = sys.implementation.version
environment = {
    "implementation_name": sys.implementation.name,
    "implementation_version": f"{info.major}.{info.minor}.{info.micro}",
    "os_name": os.name,
    "platform_machine": platform.machine(),
    "platform_release": platform.release(),
    "platform_system": platform.system(),
    "platform_version": platform.version(),
    "platform_python_implementation": platform.python_implementation(),
    "python_full_version": platform.python_version(),
    "python_version": ".".join(platform.python_version_tuple()[:2]),
    "sys_platform": sys.platform,
}
site = sysconfig.get_paths()["purelib"]
owned = {str(f).split("/")[0] for d in metadata.distributions() for f in d.files or []}
print(json.dumps({
    "environment": environment,
    "distributions": [[d.metadata["Name"], d.version] for d in metadata.distributions()],
    "unowned": sorted(set(os.listdir(site)) - owned - {"__pycache__"}),
}))
"""


@pytest.fixture(scope="module", params=matrix_params(COVERING_SET))
def project(request, engine, baked):
    """One baked project whose base image is on this engine."""
    image = f"python:{request.param['python_version']}-slim"
    if docker("image", "inspect", image, expect=None).returncode != 0:
        pytest.skip(f"no {image} image on this engine; nothing can be pulled here")
    return baked(request.param)


@pytest.fixture(scope="module")
def image(project):
    """The image built from project, which the development stack runs too: (tag, lock path)."""
    tag = f"{project.name}:image-{uuid.uuid4().hex[:8]}"
    docker("build", "--tag", tag, project)
    yield tag, project / "requirements.txt"
    docker("image", "rm", "--force", tag, expect=None)


def in_image(tag: str, *command: str, user="10001:10001", expect=0):
    options = ("--rm", "--user", user, "--entrypoint", command[0])
    return docker("run", *options, tag, *command[1:], expect=expect)


@pytest.mark.parametrize("module", ["pip", "setuptools", "wheel"])
def test_no_installer_imports_in_the_image(image, module):
    """Neither the app's Python nor the base image's can import pip, setuptools or wheel."""
    tag, _ = image
    for python in ("python", "/usr/local/bin/python"):
        result = in_image(tag, python, "-c", f"import {module}", expect=None)
        assert result.returncode == 1 and "ModuleNotFoundError" in result.stderr, (python, module)


def test_no_installer_command_on_the_path(image):
    """pip, pip3 and wheel are not commands in the image."""
    tag, _ = image
    found = in_image(tag, "sh", "-c", "command -v pip pip3 wheel", expect=None)
    assert found.stdout.strip() == "", found.stdout


def test_no_installer_wheel_left_to_reinstall_one(image):
    """No pip, setuptools or wheel wheel is left for ensurepip to reinstall."""
    tag, _ = image
    names = ("pip-*.whl", "setuptools-*.whl", "wheel-*.whl")
    pattern = " -o ".join(f"-name '{name}'" for name in names)
    # As root, so that no folder is unreadable to the search.
    found = in_image(tag, "sh", "-c", f"find / -xdev \\( {pattern} \\) -print", user="0")
    assert found.stdout.strip() == "", found.stdout


def test_installed_distributions_are_the_lock(image):
    """The image holds each lock entry whose marker applies to its Python, and nothing else."""
    tag, lock = image
    seen = json.loads(in_image(tag, "python", "-c", INSPECT).stdout)
    installed = {(canonicalize_name(name), version) for name, version in seen["distributions"]}
    locked = {
        (name, entry.version)
        for name, entry in read_lock(lock).items()
        if not entry.marker or Marker(entry.marker).evaluate(seen["environment"])
    }
    assert installed == locked, (
        f"in the image, not in {lock.name}: {sorted(installed - locked)}; "
        f"in {lock.name}, not in the image: {sorted(locked - installed)}"
    )
    assert seen["unowned"] == [], "site-packages entries no distribution owns"


# Run in the image: build the app and import the server, its worker and, where the repo
# has a database, its migrations' command, then name each installed distribution that
# none of the modules loaded belongs to.
UNUSED = f"""
import importlib.metadata as metadata, importlib.util, json, sys
import {PACKAGE}.serve, {PACKAGE}.worker
if importlib.util.find_spec("{PACKAGE}.migrate"):
    import {PACKAGE}.migrate
from {PACKAGE} import create_app
create_app()
loaded = {{name.split(".")[0] for name in sys.modules}}
owners = metadata.packages_distributions()
used = {{owner for module in loaded for owner in owners.get(module, [])}}
print(json.dumps(sorted({{d.metadata["Name"] for d in metadata.distributions()}} - used)))
"""


def test_the_app_imports_every_distribution_of_the_image(image):
    """Building the app and importing its server and worker loads every distribution."""
    tag, _ = image
    token = ("--env", "API_TOKENS=image-test-token-0123456789")
    # Where the repo has a database, create_app() connects its engine (lazily: nothing
    # listens there), which loads the driver.
    database = [f"--env={name}={value}" for name, value in UNREACHABLE_DATABASE.items()]
    command = ("--entrypoint", "python", tag, "-c", UNUSED)
    result = docker("run", "--rm", *token, *database, *command)
    unused = json.loads(result.stdout)
    assert unused == [], f"installed, never imported: {unused}"
