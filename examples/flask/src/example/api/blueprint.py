"""A typed face for flask-smorest's Blueprint.

flask-smorest ships no type hints, and mypy's strict mode rejects untyped decorators;
this Protocol describes the few Blueprint methods the views use, so that the views
themselves stay fully type-checked.
"""

from collections.abc import Callable
from typing import Any, Protocol

import flask_smorest
from marshmallow import Schema

from example.errors import parser

# The decorators change a view's signature (parsed arguments are passed in, return
# values are serialized); only Flask calls views, so `...` is the honest type.
ViewDecorator = Callable[[Callable[..., Any]], Callable[..., Any]]
SchemaArg = type[Schema] | Schema


class ApiBlueprint(Protocol):
    name: str

    def route(
        self, rule: str, *, parameters: list[dict[str, Any]] | None = None, **options: Any
    ) -> ViewDecorator: ...

    def arguments(
        self, schema: SchemaArg, *, location: str = "json", **kwargs: Any
    ) -> ViewDecorator: ...

    def response(
        self, status_code: int, schema: SchemaArg | None = None, **kwargs: Any
    ) -> ViewDecorator: ...

    def alt_response(
        self, status_code: int, *, schema: SchemaArg | None = None, **kwargs: Any
    ) -> ViewDecorator: ...

    def doc(self, **kwargs: Any) -> ViewDecorator: ...


def make_blueprint(name: str, *, url_prefix: str, description: str) -> ApiBlueprint:
    """A flask-smorest Blueprint whose argument errors come out in FastAPI's 422 shape."""
    raw = flask_smorest.Blueprint(name, __name__, url_prefix=url_prefix, description=description)
    raw.ARGUMENTS_PARSER = parser
    blueprint: ApiBlueprint = raw
    return blueprint
