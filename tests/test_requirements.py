"""The generated repo pins what the template's test stack pins, at the same versions.

The matrix runs each baked repo's own suite with the template's interpreter, so a
generated pin that requirements-dev.txt lacks, or pins at another version, would
test the baked repo on a stack it never installs. Dependabot reads only
requirements-dev.txt: these tests fail after a bump there until the generated
repo's requirements*.in follows, and its locks with it (templates/lock.sh; the
baked repo's tests/test_requirements_lock.py fails until they agree).
"""

import re
from pathlib import Path

import pytest
from conftest import MATRIX, PROJECT_TEMPLATE, TEMPLATE, distinct_files

TEMPLATE_REQUIREMENTS = TEMPLATE / "requirements-dev.txt"
# The generated repo's top-level pins; its requirements*.txt are their locks.
GENERATED_REQUIREMENTS = sorted(path.name for path in PROJECT_TEMPLATE.glob("requirements*.in"))
# name[extras]==version: an exact pin.
PIN = re.compile(r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(?P<version>[^\s;#]+)")


def canonical(name: str) -> str:
    """Compare names as PyPI does (PEP 503): Flask_Smorest and flask-smorest are one."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements(path: Path) -> list[str]:
    """The requirement lines of a requirements file, without comments and pip options (-r)."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("-")]


def pins(lines) -> dict[str, str]:
    """Map each exact pin among lines to its version, by canonical name."""
    return {canonical(m["name"]): m["version"] for line in lines for m in PIN.finditer(line)}


def drift(found: dict[str, str]) -> list[str]:
    """Name each pin of found that requirements-dev.txt lacks or pins at another version."""
    template = pins(requirements(TEMPLATE_REQUIREMENTS))
    return [
        f"{name}=={version}, but requirements-dev.txt has "
        + (f"{name}=={template[name]}" if name in template else "no pin of it")
        for name, version in sorted(found.items())
        if template.get(name) != version
    ]


def rendered_by(owners: list[str]) -> str:
    return "every combination" if len(owners) == len(MATRIX) else ", ".join(owners)


@pytest.fixture(scope="module")
def generated(baked) -> dict[Path, list[str]]:
    """Each distinct rendering of the generated requirements*.in, with the combinations."""
    assert GENERATED_REQUIREMENTS, "no requirements*.in in the generated repo: has it moved?"
    return {
        path: owners
        for name in GENERATED_REQUIREMENTS
        for path, owners in distinct_files(baked, name).items()
    }


def test_every_requirement_is_pinned_exactly(generated):
    """Each requirement of the template's stack and the generated repo is name==version."""
    files = {TEMPLATE_REQUIREMENTS: "the template's requirements-dev.txt"} | {
        path: f"generated {path.name} (rendered by {rendered_by(owners)})"
        for path, owners in generated.items()
    }
    unpinned = [
        f"{label}: {line}"
        for path, label in files.items()
        for line in requirements(path)
        if not PIN.fullmatch(line)
    ]
    assert not unpinned, "pin these as name==version:\n" + "\n".join(unpinned)


def test_generated_pins_are_the_template_pins(generated):
    """Each pin of the generated requirements*.in is in requirements-dev.txt, same version."""
    problems = [
        f"{path.name} (rendered by {rendered_by(owners)}) pins {problem}"
        for path, owners in generated.items()
        for problem in drift(pins(requirements(path)))
    ]
    assert all(pins(requirements(path)) for path in generated), "a requirements file pins nothing"
    assert not problems, "bump both in the same change:\n" + "\n".join(problems)


def test_pip_installs_in_generated_files_pin_the_template_versions(baked):
    """A `pip install name==version` in the generated CI files or docs pins the template's."""
    installs, problems = set(), set()
    for options in MATRIX:
        project = baked(options)
        for path in sorted(p for p in project.rglob("*") if p.is_file()):
            text = path.read_text(encoding="utf-8", errors="replace")
            found = pins(line for line in text.splitlines() if "pip install" in line)
            installs |= found.keys()
            name = path.relative_to(project).as_posix()
            problems |= {f"{name} installs {problem}" for problem in drift(found)}
    assert installs, "no pinned pip install found: has the scan broken?"
    assert not problems, "bump both in the same change:\n" + "\n".join(sorted(problems))
