"""The post-generation hook's tables name every file each option acts on."""

import re
from pathlib import Path

import pytest
from conftest import OPTIONS, PROJECT_TEMPLATE
from conftest import post_hook as post

CONDITIONAL = re.compile(r"\{%-?\s*(?:if|elif)\b[^%]*?cookiecutter\.(\w+)")


def table_path(path: Path) -> str:
    """A template file as the hook's tables name it: src/{package_name}/..."""
    relative = path.relative_to(PROJECT_TEMPLATE).as_posix()
    return relative.replace("{{cookiecutter.package_name}}", "{package_name}")


def conditionals_by_option() -> dict[str, set[str]]:
    """Map each option to the template files with a Jinja conditional on it."""
    found: dict[str, set[str]] = {}
    for path in sorted(PROJECT_TEMPLATE.rglob("*")):
        if path.is_file():
            for option in CONDITIONAL.findall(path.read_text(encoding="utf-8")):
                found.setdefault(option, set()).add(table_path(path))
    return found


def unneeded_by_option() -> dict[str, set[str]]:
    return {
        option: {path for paths in by_value.values() for path in paths}
        for option, by_value in post.UNNEEDED.items()
    }


def test_every_conditional_is_in_the_hooks_table():
    """A file that decides on an option with {% if %} is listed in CONDITIONAL_IN."""
    listed = {option: set(paths) for option, paths in post.CONDITIONAL_IN.items()}
    for option, paths in conditionals_by_option().items():
        # A file removed by the option needs no conditional on it; one it keeps is listed.
        unlisted = paths - listed.get(option, set()) - unneeded_by_option().get(option, set())
        assert not unlisted, f"{option} decides {sorted(unlisted)}: add them to CONDITIONAL_IN"


def test_every_listed_file_has_the_conditional():
    """CONDITIONAL_IN names no file that no longer decides on its option."""
    found = conditionals_by_option()
    for option, paths in post.CONDITIONAL_IN.items():
        stale = set(paths) - found.get(option, set())
        assert not stale, f"{option} no longer decides {sorted(stale)}: drop them"


@pytest.mark.parametrize("option", sorted(set(post.UNNEEDED) | set(post.CONDITIONAL_IN)))
def test_the_tables_name_real_options_and_files(option):
    """Every option in the tables is in cookiecutter.json; every path is in the template."""
    assert option in OPTIONS
    paths = unneeded_by_option().get(option, set()) | set(post.CONDITIONAL_IN.get(option, []))
    for path in paths:
        template_path = path.replace("{package_name}", "{{cookiecutter.package_name}}")
        assert (PROJECT_TEMPLATE / template_path).exists(), f"{option}: no {path} in the template"
