"""Refuse template options that would give a broken project, before any file is written.

Importable: the checks are plain functions of the options, unit-tested in
tests/test_hooks.py. Cookiecutter renders this file, filling RENDERED below.
"""

import json
import keyword
import re
import sys

# AWS regions, as listed by botocore's endpoint data (tests/test_hooks.py
# checks this list against it). Kept here because the hook runs offline.
AWS_REGIONS = frozenset(
    {
        "af-south-1",
        "ap-east-1",
        "ap-east-2",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ap-south-1",
        "ap-south-2",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "ap-southeast-5",
        "ap-southeast-6",
        "ap-southeast-7",
        "ca-central-1",
        "ca-west-1",
        "cn-north-1",
        "cn-northwest-1",
        "eu-central-1",
        "eu-central-2",
        "eu-north-1",
        "eu-south-1",
        "eu-south-2",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "il-central-1",
        "me-central-1",
        "me-south-1",
        "mx-central-1",
        "sa-east-1",
        "us-east-1",
        "us-east-2",
        "us-gov-east-1",
        "us-gov-west-1",
        "us-west-1",
        "us-west-2",
    }
)

# Fargate task sizes: CPU units -> the memory sizes (MiB) that CPU allows.
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html
FARGATE_SIZES = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}

SLUG = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
# Names the generated code imports: a package called one of these would shadow it.
DEPENDENCIES = frozenset(
    {
        "flask",
        "gunicorn",
        "gevent",
        "greenlet",
        "zope",
        "werkzeug",
        "jinja2",
        "pythonjsonlogger",
        "pytest",
        "yaml",
        "tests",
        "wsgi",
        "src",
    }
)


class OptionError(ValueError):
    """A template option holds a value the template cannot render into a working project."""

    def __init__(self, option: str, value: object, accepted: str):
        super().__init__(f"{option}={value!r} is not accepted: {accepted}.")


def check_slug(slug: str) -> None:
    if len(slug) > 50 or not SLUG.fullmatch(slug):
        raise OptionError(
            "project_slug",
            slug,
            "use lowercase ASCII letters, digits and single "
            "hyphens, starting with a letter, at most 50 characters (e.g. orders-service)",
        )


def check_package_name(name: str) -> None:
    if not name.isidentifier() or not name.isascii() or name != name.lower():
        raise OptionError(
            "package_name",
            name,
            "use a lowercase Python identifier "
            "(letters, digits, underscores; not starting with a digit)",
        )
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        raise OptionError("package_name", name, "a Python keyword cannot name a package")
    if name in sys.stdlib_module_names or name in DEPENDENCIES:
        raise OptionError(
            "package_name",
            name,
            "it would shadow the module of that name; pick another, e.g. " + name + "_service",
        )


def check_region(region: str) -> None:
    if region not in AWS_REGIONS:
        raise OptionError(
            "aws_region",
            region,
            "use an AWS region code such as us-east-1, eu-west-1 or ap-southeast-2",
        )


def check_fargate_size(cpu: object, memory: object) -> None:
    cpu_units = _whole_number("fargate_cpu", cpu)
    if cpu_units not in FARGATE_SIZES:
        raise OptionError("fargate_cpu", cpu, "use one of " + ", ".join(map(str, FARGATE_SIZES)))
    allowed = FARGATE_SIZES[cpu_units]
    if _whole_number("fargate_memory", memory) not in allowed:
        raise OptionError(
            "fargate_memory",
            memory,
            f"with fargate_cpu={cpu_units} Fargate offers {_describe(allowed)} MiB",
        )


def check_port(port: object) -> None:
    if not 1024 <= _whole_number("container_port", port) <= 65535:
        raise OptionError(
            "container_port",
            port,
            "use 1024 to 65535 (the container runs as a "
            "non-root user, which cannot bind lower ports)",
        )


def check_desired_count(count: object) -> None:
    if _whole_number("desired_count", count) < 0:
        raise OptionError("desired_count", count, "use a whole number of tasks, 0 or more")


def check_use_volume(value: object) -> None:
    if not isinstance(value, bool):
        raise OptionError("use_volume", value, "use true or false")


def check_options(options: dict) -> None:
    """Raise OptionError for the first option that cannot make a working project."""
    check_slug(options["project_slug"])
    check_package_name(options["package_name"])
    check_region(options["aws_region"])
    check_fargate_size(options["fargate_cpu"], options["fargate_memory"])
    check_port(options["container_port"])
    check_desired_count(options["desired_count"])
    check_use_volume(options["use_volume"])


def _whole_number(option: str, value: object) -> int:
    text = str(value).strip()
    if isinstance(value, bool) or not re.fullmatch(r"[+-]?[0-9]+", text):
        raise OptionError(option, value, "use a whole number")
    return int(text)


def _describe(sizes: tuple[int, ...]) -> str:
    if len(sizes) <= 3:
        return ", ".join(map(str, sizes))
    return f"{sizes[0]} to {sizes[-1]} in steps of {sizes[1] - sizes[0]}"


# A raw string, so the JSON keeps its escapes; unrendered, it is plain text.
RENDERED = r"""{{ cookiecutter | jsonify }}"""


def main() -> int:
    try:
        check_options(json.loads(RENDERED))
    except OptionError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
