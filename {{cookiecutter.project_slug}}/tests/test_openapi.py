import logging
import re

import pytest
import schemathesis
{%- if cookiecutter.database == "postgres" %}
from conftest import UNREACHABLE_DATABASE
{%- endif %}
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate

from {{ cookiecutter.package_name }} import create_app, health, openapi
{%- if cookiecutter.database == "postgres" %}

# The operations that need the database run against the tests' own (db_app).
DATABASE_PATHS = "/api/v1/notes"
{%- endif %}

# Methods Flask answers by itself on every route, not operations of the API.
AUTOMATIC_METHODS = {"HEAD", "OPTIONS"}


@pytest.fixture
def document(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return response.json


def test_document_is_valid_openapi(document):
    """/openapi.json is a valid OpenAPI 3.0 document."""
    validate(document)
    assert document["openapi"].startswith("3.0")


def test_document_lists_exactly_the_routes_of_the_app(app, document):
    """Every route is documented, and every documented operation is a route."""
    routes = {
        (re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        for method in rule.methods - AUTOMATIC_METHODS
    }
    documented = {
        (path, method)
        for path, operations in document["paths"].items()
        for method in operations
        if method != "parameters"
    }
    assert documented == routes


def test_health_routes_run_without_a_validation_layer(app):
    """The probes are plain views: documented by hand, never wrapped."""
    assert app.view_functions["health.healthz"] is health.healthz
    assert app.view_functions["health.readyz"] is health.readyz


def test_a_hand_written_path_must_be_a_route(app):
    """Describing a plain view that is not registered fails at start-up, naming the path."""
    with pytest.raises(LookupError, match="cannot document /nowhere"):
        openapi.document_views(app, {"/nowhere": {"get": {"responses": {}}}})


def document_app():
    """Return an app made with the defaults and a token: its document does not depend on them."""
{%- if cookiecutter.database == "postgres" %}
    # A database that is never reached: the document does not depend on it either.
    app = create_app({"API_TOKENS": "any-token-0123456789abcdef", **UNREACHABLE_DATABASE})
{%- else %}
    app = create_app({"API_TOKENS": "any-token-0123456789abcdef"})
{%- endif %}
    logging.getLogger().handlers.clear()  # as the app fixture does after each test
    return app


# Read at collection, so each operation is a test of its own; every case then
# calls the test's own app, in-process (WSGI, no server). The schema's own app
# answers the probes schemathesis sends without the token (its ignored_auth check).
schema = schemathesis.openapi.from_wsgi("/openapi.json", document_app())


@schema.parametrize()
# A fixed, bounded run: repeatable in CI, a few seconds for every operation.
@settings(
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
{%- if cookiecutter.database == "postgres" %}
def test_api_conforms_to_its_document(case, app, token, request):
    """No input makes the service answer 5xx, and every answer is the documented one."""
    if case.path.startswith(DATABASE_PATHS):
        app = request.getfixturevalue("db_app")
    case.call_and_validate(app=app, headers={"Authorization": f"Bearer {token}"})
{%- else %}
def test_api_conforms_to_its_document(case, app, token):
    """No input makes the service answer 5xx, and every answer is the documented one."""
    case.call_and_validate(app=app, headers={"Authorization": f"Bearer {token}"})
{%- endif %}
