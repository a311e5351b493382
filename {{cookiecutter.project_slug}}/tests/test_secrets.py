"""The secrets: one declared list (infra/secrets) that every place follows, values never shown.

The deploy checks that each declared secret is set, the task definition passes each from
its environment's SSM path, compose.yaml and .env.example give each a development value,
and the app reads each as a setting whose value stays out of repr, logs, responses and
/openapi.json.
"""

import dataclasses
import re
from pathlib import Path

import pytest
import yaml
from test_task_definition_parity import CloudFormationLoader

from {{ cookiecutter.package_name }} import create_app
from {{ cookiecutter.package_name }}.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
NAME = re.compile(r"[A-Z][A-Z0-9_]{0,127}")
GREETINGS = "/api/v1/greetings"


def declared_secrets() -> list[str]:
    """The names in infra/secrets, read as the deploy reads them."""
    text = (ROOT / "infra" / "secrets").read_text()
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [line for line in lines if line]


DECLARED = declared_secrets()


def secret_value(name: str) -> str:
    """A value no code would print by chance, and a valid bearer token too."""
    return f"{name.lower().replace('_', '-')}-must-never-show-0123456789abcdef"


def test_api_tokens_is_declared_and_every_name_is_a_variable_name():
    """API_TOKENS comes first; each line is one name, as the deploy reads it."""
    assert DECLARED[0] == "API_TOKENS"
    assert all(NAME.fullmatch(name) for name in DECLARED), DECLARED
    assert len(set(DECLARED)) == len(DECLARED)


@pytest.fixture(scope="module")
def container_secrets() -> dict[str, object]:
    text = (ROOT / "infra" / "service.yaml").read_text()
    template = yaml.load(text, CloudFormationLoader)  # noqa: S506 - a SafeLoader subclass
    containers = template["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"]
    (app,) = [container for container in containers if container["Name"] == "app"]
    # SSM's only: a database's user and password come from the secret RDS manages, which no
    # person sets (test_task_definition_parity.py checks those).
    return {
        secret["Name"]: secret["ValueFrom"]
        for secret in app.get("Secrets", [])
        if ":ssm:" in str(secret["ValueFrom"])
    }


def test_the_task_definition_passes_exactly_the_declared_secrets(container_secrets):
    """One Secrets entry per declared name, in the same order, none else."""
    assert list(container_secrets) == DECLARED


@pytest.mark.parametrize("name", DECLARED)
def test_each_secret_comes_from_its_environments_path(container_secrets, name):
    """ValueFrom is /<service>/<env>/<NAME>: where make secret-set writes, what the role reads."""
    path = "parameter/${ServiceName}/${EnvironmentName}/" + name
    expected = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:" + path
    assert container_secrets[name] == {"Fn::Sub": expected}


def test_compose_passes_each_secret_from_dotenv():
    """compose.yaml names each secret and takes its value from .env, with no default baked in."""
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    environment = compose["services"]["app"]["environment"]
    assert {name: environment.get(name) for name in DECLARED} == {
        name: "${" + name + "}" for name in DECLARED
    }


def test_env_example_gives_each_secret_a_development_value():
    """A first `make dev-up` copies .env.example to .env: each secret needs a value there."""
    lines = (ROOT / ".env.example").read_text().splitlines()
    values = dict(line.split("=", 1) for line in lines if re.match(r"[A-Z][A-Z0-9_]*=", line))
    assert all(values.get(name) for name in DECLARED), values


def test_each_secret_is_a_setting_left_out_of_repr():
    """NAME is read into the Settings field name, which repr, and so a logged Settings, skips."""
    fields = {field.name: field for field in dataclasses.fields(Settings)}
    for name in DECLARED:
        assert name.lower() in fields, f"no Settings field {name.lower()} for the secret {name}"
        assert fields[name.lower()].repr is False, f"Settings.{name.lower()} is shown by repr"


@pytest.fixture
def secrets(environ):
    """The test app's environment with a recognisable value for every declared secret."""
    values = {name: secret_value(name) for name in DECLARED}
    environ.update(values)
    return values


def test_repr_of_the_settings_never_shows_a_secret(environ, secrets):
    shown = repr(load_settings(environ))
    assert not [name for name, value in secrets.items() if value in shown]


def exercise(app, token: str) -> list:
    """Requests that log, fail and succeed: authorized, unauthorized, malformed, unknown."""
    client = app.test_client()
    good = {"Authorization": f"Bearer {token}"}
    wrong = {"Authorization": "Bearer wrong-token-0123456789abcdef"}
    return [
        client.get("/healthz"),
        client.get("/readyz"),
        client.get("/openapi.json"),
        client.post(GREETINGS, json={"name": "Ada"}, headers=good),
        client.post(GREETINGS, json={"name": "Ada"}, headers=wrong),
        client.post(GREETINGS, json={"name": "Ada"}),
        client.post(GREETINGS, data="{no", content_type="application/json", headers=good),
        client.post(GREETINGS, json={"name": 7}, headers=good),
        client.get("/no/such/route", headers=good),
        client.delete("/healthz", headers=good),
    ]


@pytest.fixture
def exercised(environ, secrets, capsys):
    """The responses and everything the app wrote, at DEBUG, from its creation on."""
    environ["LOG_LEVEL"] = "DEBUG"
    app = create_app(environ)
    responses = exercise(app, secrets["API_TOKENS"])
    assert {response.status_code for response in responses} >= {200, 400, 401, 404, 405}
    captured = capsys.readouterr()
    return responses, captured.out + captured.err


def shown_secrets(text: str, secrets: dict[str, str]) -> list[str]:
    return [name for name, value in secrets.items() if value in text]


def test_logs_never_show_a_secret(exercised, secrets):
    _, output = exercised
    assert "request" in output  # the request lines were captured
    assert not shown_secrets(output, secrets)


def test_responses_never_show_a_secret(exercised, secrets):
    """No body or header of any response, error responses included, carries a value."""
    responses, _ = exercised
    for response in responses:
        text = response.get_data(as_text=True) + str(response.headers)
        assert not shown_secrets(text, secrets), (response.request.path, response.status_code)


def test_the_openapi_document_never_shows_a_secret(exercised, secrets):
    responses, _ = exercised
    (document,) = [r for r in responses if r.request.path == "/openapi.json"]
    assert document.status_code == 200
    assert not shown_secrets(document.get_data(as_text=True), secrets)
