"""An example resource to copy: POST /api/v1/greetings, validated and documented.

The schemas below validate the request (webargs answers a JSON 422 naming the
field at fault), shape the response and write the OpenAPI document; nothing is
stored, because each server worker has its own memory.
"""

from marshmallow import Schema, fields, validate

from . import auth
from .errors import ErrorSchema
from .openapi import Blueprint

bp = Blueprint("greetings", __name__, url_prefix="/api/v1/greetings", description="Greet someone.")
# Every route of this blueprint needs a bearer token (auth.py).
bp.before_request(auth.require_token)

TEMPLATES = {
    "en": "Hello, {name}!",
    "fr": "Bonjour, {name} !",
    "de": "Hallo, {name}!",
    "es": "¡Hola, {name}!",
}
LANGUAGES = validate.OneOf(sorted(TEMPLATES))


class GreetingQuery(Schema):
    language = fields.String(
        load_default="en", validate=LANGUAGES, metadata={"description": "Language of the greeting"}
    )


# marshmallow refuses unknown fields by default, so a misspelt field is a 422,
# and the document says so (additionalProperties: false).
class GreetingRequest(Schema):
    name = fields.String(
        required=True,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "Who to greet", "example": "Ada"},
    )


class Greeting(Schema):
    message = fields.String(required=True, metadata={"example": "Hello, Ada!"})
    language = fields.String(required=True, validate=LANGUAGES)


@bp.post("")
@bp.arguments(GreetingQuery, location="query", as_kwargs=True)
@bp.arguments(GreetingRequest)
@bp.response(200, Greeting)
@bp.alt_response(400, schema=ErrorSchema, description="The body is not valid JSON")
@bp.alt_response(413, schema=ErrorSchema, description="The body is over MAX_JSON_BYTES")
def create_greeting(body: dict, language: str) -> dict:
    """Greet someone by name in one of the supported languages."""
    return {"message": TEMPLATES[language].format(name=body["name"]), "language": language}
