"""JSON through orjson, for the answers and for the bodies that schemas read.

Faster than the json module, and bounded where it is not: orjson refuses
nesting deeper than 1024 and numbers beyond a double with a JSONDecodeError, so
a hostile body is a 400 rather than a RecursionError or a ValueError (a 500).
"""

from typing import ClassVar

import orjson
from flask import current_app
from flask.json.provider import DefaultJSONProvider, JSONProvider
from flask.wrappers import Response
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

# Keys kept in insertion order; what orjson cannot write, Flask's provider does
# (Decimal, and objects with __html__); dates are ISO 8601, orjson's own.
_OPTIONS = orjson.OPT_NON_STR_KEYS


class OrjsonProvider(JSONProvider):
    def dumps(self, obj, **kwargs) -> str:
        return orjson.dumps(obj, default=DefaultJSONProvider.default, option=_OPTIONS).decode()

    def loads(self, s: str | bytes, **kwargs):
        return orjson.loads(s)

    def response(self, *args, **kwargs) -> Response:
        obj = self._prepare_response_obj(args, kwargs)
        body = orjson.dumps(obj, default=DefaultJSONProvider.default, option=_OPTIONS)
        return self._app.response_class(body, mimetype="application/json")


class Parser(FlaskParser):
    """webargs' parser, reading JSON bodies with the app's provider instead of the json module."""

    # An unknown query parameter is a 422, as an unknown body field is (webargs would
    # drop it): a misspelt ?page_sise=5 must not quietly serve the default.
    DEFAULT_UNKNOWN_BY_LOCATION: ClassVar[dict[str, str | None]] = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": None,
        "querystring": None,
    }

    def _raw_load_json(self, req):
        data = req.get_data(cache=True) if is_json_request(req) else b""
        if not data:
            return core.missing
        try:
            return current_app.json.loads(data)
        except orjson.JSONDecodeError as error:
            # Here, not in webargs, which takes an error on undecodable bytes for no body.
            self._handle_invalid_json_error(error, req)
