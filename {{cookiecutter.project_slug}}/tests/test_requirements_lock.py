"""The hash-locked requirements*.txt agree with the requirements*.in they are made from.

Each test names the next command: after editing a requirements*.in, `make lock`
rewrites the locks, and these tests pass again.
"""

import itertools
import re
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
# Each input includes the one before it (-r), so each lock holds the one before it.
INPUTS = ("requirements.in", "requirements-dev.in")
LOCKS = tuple(name.removesuffix(".in") + ".txt" for name in INPUTS)
# name==version, then an optional environment marker, then the line continuation.
ENTRY = re.compile(
    r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)\s*(?:;(?P<marker>[^\\]*))?"
)
RERUN = "run `make lock`"


@dataclass
class Entry:
    version: str
    marker: str
    hashes: list[str]
    via: list[str]


def read_lock(path: Path) -> dict[str, Entry]:
    """Map each distribution a lock pins, by canonical name, to its entry."""
    entries: dict[str, Entry] = {}
    entry = None
    for line in path.read_text().splitlines():
        text = line.strip().removesuffix("\\").strip()
        match = None if line.startswith((" ", "#")) else ENTRY.fullmatch(text)
        if match:
            entry = Entry(match["version"], (match["marker"] or "").strip(), [], [])
            entries[canonicalize_name(match["name"])] = entry
        elif entry and text.startswith("--hash="):
            entry.hashes.append(text.removeprefix("--hash="))
        elif entry and line.startswith("    #"):
            via = text.lstrip("#").strip().removeprefix("via").strip()
            entry.via += [via] if via else []
    return entries


def read_input(name: str) -> tuple[dict[str, Requirement], list[str]]:
    """The requirements an .in file names itself, and the .in files it includes."""
    pins, includes = {}, []
    for line in (ROOT / name).read_text().splitlines():
        text = line.split("#", 1)[0].strip()
        if text.startswith("-r "):
            includes.append(text.removeprefix("-r ").strip())
        elif text:
            requirement = Requirement(text)
            pins[canonicalize_name(requirement.name)] = requirement
    return pins, includes


def input_closure(name: str) -> dict[str, dict[str, Requirement]]:
    """Map name and every .in it includes, however deep, to the pins each names."""
    pins, includes = read_input(name)
    closure = {name: pins}
    for included in includes:
        closure |= input_closure(included)
    return closure


def all_pins(name: str) -> dict[str, list[Requirement]]:
    """Every requirement that an .in and its includes name, by canonical name."""
    found: dict[str, list[Requirement]] = {}
    for pins in input_closure(name).values():
        for key, requirement in pins.items():
            found.setdefault(key, []).append(requirement)
    return found


def image_python() -> str:
    """The Python of the image: the Dockerfile's ARG PYTHON_VERSION."""
    match = re.search(r"^ARG PYTHON_VERSION=(\S+)$", (ROOT / "Dockerfile").read_text(), re.M)
    assert match, "the Dockerfile has no ARG PYTHON_VERSION=..."
    return match[1]


PAIRS = pytest.mark.parametrize(("source", "lock"), list(zip(INPUTS, LOCKS, strict=True)))


@PAIRS
def test_each_lock_is_what_make_lock_writes_for_the_image_python(source, lock):
    """A lock's header is make lock's command for the image's Python, as dependabot re-runs it."""
    command = (
        f"uv pip compile --universal --python-version {image_python()} --generate-hashes"
        f" --output-file={lock} {source}"
    )
    header = (ROOT / lock).read_text().splitlines()[:2]
    assert header[1].removeprefix("#").strip() == command, f"{lock} has another header: {RERUN}"


@PAIRS
def test_every_pin_of_the_inputs_is_locked_at_its_version(source, lock):
    """Each name==version of an .in and its includes is in the lock, at that version."""
    entries = read_lock(ROOT / lock)
    problems = []
    for name, requirements in sorted(all_pins(source).items()):
        for requirement in requirements:
            pinned = str(requirement.specifier).removeprefix("==")
            if not str(requirement.specifier).startswith("==") or "," in pinned:
                problems.append(f"{requirement} is not an exact pin (name==version)")
            elif name not in entries:
                problems.append(f"{requirement} is not in {lock}")
            elif entries[name].version != pinned:
                problems.append(f"{requirement}, but {lock} has {entries[name].version}")
    assert not problems, f"{source} and {lock} disagree ({RERUN}):\n" + "\n".join(problems)


@pytest.mark.parametrize("lock", LOCKS)
def test_every_locked_distribution_carries_its_hashes(lock):
    """pip installs a lock in hash-checking mode: every entry has a sha256 hash."""
    entries = read_lock(ROOT / lock)
    assert entries, f"{lock} locks nothing"
    bare = [name for name, entry in entries.items() if not entry.hashes]
    assert not bare, f"{lock} has entries without --hash ({RERUN}): {bare}"
    assert all(h.startswith("sha256:") for e in entries.values() for h in e.hashes)


def needs(parent: str, version: str, child: str, extras: set[str]) -> bool:
    """Whether parent needs child when installed with extras, by its installed metadata.

    uv's `# via` notes name the parent, not the extra that brought a package in:
    the metadata tells. Without the locked version installed, trust the note.
    """
    try:
        installed = metadata.distribution(parent)
    except metadata.PackageNotFoundError:
        return True
    if installed.version != version:
        return True
    wanted = [Requirement(r) for r in installed.requires or []]
    wanted = [r for r in wanted if canonicalize_name(r.name) == child]
    return not wanted or any(
        not r.marker
        or "extra" not in str(r.marker)
        or any(r.marker.evaluate({"extra": e}) for e in extras)
        for r in wanted
    )


@PAIRS
def test_the_lock_holds_only_what_the_inputs_lead_to(source, lock):
    """Every entry is a pin of the inputs or needed by one, with the extras the inputs ask for."""
    entries = read_lock(ROOT / lock)
    inputs = input_closure(source)
    extras = {name: {e for r in rs for e in r.extras} for name, rs in all_pins(source).items()}
    reached = {
        name
        for name, entry in entries.items()
        for via in entry.via
        if via.startswith("-r ") and name in inputs.get(via.removeprefix("-r "), {})
    }
    parents = {name: {v for v in e.via if not v.startswith("-r ")} for name, e in entries.items()}
    while grown := {
        name
        for name, via in parents.items()
        if name not in reached
        and any(
            parent in reached
            and needs(parent, entries[parent].version, name, extras.get(parent, set()))
            for parent in via
        )
    }:
        reached |= grown
    stray = sorted(set(entries) - reached)
    assert not stray, f"{lock} locks what no input needs ({RERUN}): {stray}"


@pytest.mark.parametrize(("smaller", "larger"), list(itertools.pairwise(LOCKS)))
def test_each_lock_holds_the_one_before_it_identically(smaller, larger):
    """The image's lock is inside the dev stack's, inside the tools': same versions and hashes.

    Only a marker may widen: the tools may need a package on more Pythons than the image does.
    """
    inner, outer = read_lock(ROOT / smaller), read_lock(ROOT / larger)
    differ = [
        f"{name}=={entry.version}: {larger} has "
        + (f"{outer[name].version} with other hashes" if name in outer else "no entry")
        for name, entry in sorted(inner.items())
        if name not in outer
        or (outer[name].version, outer[name].hashes) != (entry.version, entry.hashes)
    ]
    assert not differ, (
        f"the tests would run on another stack than the image ({RERUN}):\n" + "\n".join(differ)
    )
