"""JSON errors in the same shapes as the FastAPI flavor.

- every HTTP error is {"detail": "<message>"};
- validation errors are 422 {"detail": [{"loc": [...], "msg": ..., "type": ...}]},
  converted from Marshmallow/webargs messages;
- a malformed or non-JSON body is a 422 on ["body"], never a 500 or an HTML page;
- a database that cannot be reached is a 503 (database_errors.py);
- text with the NUL character that reached the database layer is a 422 (database_errors.py).
"""

import json
from collections.abc import Iterator, Mapping
from typing import Any, NoReturn

import marshmallow as ma
from flask import Flask, Request, request
from webargs.flaskparser import FlaskParser, abort, is_json_request
from werkzeug.exceptions import HTTPException

from example.database_errors import (
    UNAVAILABLE_DETAIL,
    UNAVAILABLE_ERRORS,
    NulCharacterError,
    database_unavailable,
    nul_character_detail,
)
from example.logging_config import get_logger
from example.models import TEXT_PATTERN

log = get_logger("example.errors")

# FastAPI names the part of the request an error is in; webargs names its loader.
LOCATIONS = {
    "json": "body",
    "form": "body",
    "json_or_form": "body",
    "files": "body",
    "query": "query",
    "querystring": "query",
    "view_args": "path",
    "path": "path",
    "headers": "header",
    "cookies": "cookie",
}

BODY_MISSING = "Field required"
BODY_INVALID_JSON = "JSON decode error"
BODY_NOT_JSON = "Input should be a JSON object sent with Content-Type: application/json"

# Pydantic's error types for the Marshmallow messages that have an equivalent.
ERROR_TYPES = {
    BODY_MISSING: "missing",
    BODY_INVALID_JSON: "json_invalid",
    BODY_NOT_JSON: "model_attributes_type",
    "Missing data for required field.": "missing",
    "Unknown field.": "extra_forbidden",
    "Invalid input type.": "model_attributes_type",
    "Not a valid string.": "string_type",
    "Not a valid number.": "float_parsing",
    "Not a valid integer.": "int_parsing",
    f"String should match pattern '{TEXT_PATTERN}'": "string_pattern_mismatch",
}

# Messages for errors Werkzeug raises itself; others use the status's name ("Not Found").
DEFAULT_DETAILS = {413: "Request body too large"}


class JsonBodyParser(FlaskParser):
    """webargs' Flask parser, strict about request bodies.

    webargs treats a missing or non-JSON body as an empty object and a malformed one
    as a 400; FastAPI answers all three with a 422 on ["body"], and so does this parser.
    """

    def load_json(self, req: Request, schema: ma.Schema) -> Any:
        body = req.get_data(cache=True)
        if not body:
            raise ma.ValidationError(BODY_MISSING)
        if not is_json_request(req):
            raise ma.ValidationError(BODY_NOT_JSON)
        try:
            return json.loads(body)
        # RecursionError: a body of thousands of nested brackets, still well under 1 MiB.
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
            raise ma.ValidationError(BODY_INVALID_JSON) from error


parser = JsonBodyParser()


def validation_details(messages: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Flatten webargs' {location: {field: [message, ...]}} into FastAPI's error list."""
    return [
        error
        for location, location_messages in messages.items()
        for error in _flatten(location_messages, [LOCATIONS.get(location, location)])
    ]


def _flatten(messages: Any, loc: list[str | int]) -> Iterator[dict[str, Any]]:
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            # Marshmallow files errors about the whole object under "_schema".
            yield from _flatten(value, loc if key == "_schema" else [*loc, key])
    elif isinstance(messages, list | tuple):
        for message in messages:
            yield from _flatten(message, loc)
    else:
        msg = str(messages)
        yield {"loc": loc, "msg": msg, "type": ERROR_TYPES.get(msg, "value_error")}


def abort_json(status: int, detail: str, headers: Mapping[str, str] | None = None) -> NoReturn:
    """Stop the request with {"detail": detail} and the given status and headers."""
    abort(status, message=detail, headers=dict(headers or {}))


def abort_validation(loc: list[str | int], msg: str, error_type: str) -> NoReturn:
    """Stop the request with a 422 in FastAPI's shape, for checks done in a view."""
    abort(422, errors=[{"loc": loc, "msg": msg, "type": error_type}])


def handle_http_exception(error: HTTPException) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Every HTTPException, including the 500 Flask makes of an unhandled exception.

    (Flask has already logged that exception's traceback through the app's logger.)
    """
    status = error.code or 500
    # Keep headers such as Allow (405); the body is JSON, not Werkzeug's HTML.
    headers = {key: value for key, value in error.get_headers() if key.lower() != "content-type"}
    data: dict[str, Any] = getattr(error, "data", None) or {}
    headers.update(data.get("headers") or {})
    detail: Any
    if "errors" in data:
        detail = data["errors"]
    elif "messages" in data:
        detail = validation_details(data["messages"])
    else:
        detail = data.get("message") or DEFAULT_DETAILS.get(status, error.name)
    return {"detail": detail}, status, headers


def handle_unavailable(error: Exception) -> tuple[dict[str, Any], int]:
    """503 while the database cannot be reached; other database errors go on to the 500."""
    if not database_unavailable(error):
        raise error
    log.warning("service_unavailable", error=type(error).__name__)
    return {"detail": UNAVAILABLE_DETAIL}, 503


def handle_nul_character(_error: NulCharacterError) -> tuple[dict[str, Any], int]:
    return {"detail": nul_character_detail(request.method)}, 422


def register_error_handlers(app: Flask) -> None:
    # Registered after flask-smorest's own HTTPException handler, so this one wins.
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(NulCharacterError, handle_nul_character)
    for unavailable in UNAVAILABLE_ERRORS:
        app.register_error_handler(unavailable, handle_unavailable)
