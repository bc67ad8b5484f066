"""Marshmallow schemas: what the API accepts and returns (and what /openapi.json shows).

Written out, with the same limits as the SQLAlchemy models and the FastAPI flavor's models
(marshmallow-sqlalchemy could derive the response schemas, but it loads SQLAlchemy's MySQL
and MSSQL dialects, several MiB in every worker process, for two schemas).
"""

from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate

from example.models import TEXT_PATTERN
from example.security import (
    PASSWORD_MAX_LENGTH,
    PASSWORD_MIN_LENGTH,
    InvalidEmailError,
    normalized_email,
    password_problem,
)

MAX_OFFSET = 2**31 - 1
# The longest e-mail address the users table holds (models.User.email).
EMAIL_MAX_LENGTH = 320

# Text that goes to the database holds no NUL character (models.TEXT_PATTERN); the message
# is Pydantic's, as in the FastAPI flavor.
TEXT = validate.Regexp(TEXT_PATTERN, error="String should match pattern '{regex}'")


class JsonNumber(fields.Float):
    """A JSON number: not a numeric string (Marshmallow's Float reads "12.5"), as in FastAPI."""

    def _validated(self, value: Any) -> float:
        if isinstance(value, str):
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


def _password_policy(value: str) -> None:
    problem = password_problem(value)
    if problem is not None:
        raise ValidationError(problem)


class NewPassword(fields.String):
    """A password being set (signup, change, reset): security.password_problem's policy, a
    422 {"msg": <its sentence>, "type": "value_error"} as in the FastAPI flavor."""

    def __init__(self, **kwargs: Any) -> None:
        length = {"minLength": PASSWORD_MIN_LENGTH, "maxLength": PASSWORD_MAX_LENGTH}
        super().__init__(
            validate=_password_policy, metadata={**length, "format": "password"}, **kwargs
        )


class EmailAddress(fields.String):
    """An e-mail address (security.normalized_email's syntax), loaded in lower case; a 422
    {"msg": "value is not a valid email address: ...", "type": "value_error"} as in FastAPI."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(metadata={"maxLength": EMAIL_MAX_LENGTH}, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        address: str = super()._deserialize(value, attr, data, **kwargs)
        try:
            return normalized_email(address)
        except InvalidEmailError as error:
            raise ValidationError(str(error)) from None


class Signup(Schema):
    class Meta:
        unknown = RAISE

    email = EmailAddress(required=True)
    password = NewPassword(required=True)


class PasswordChange(Schema):
    class Meta:
        unknown = RAISE

    current_password = fields.String(required=True, metadata={"format": "password"})
    new_password = NewPassword(required=True)


class PasswordResetRequest(Schema):
    class Meta:
        unknown = RAISE

    email = EmailAddress(required=True)


class PasswordResetConfirm(Schema):
    class Meta:
        unknown = RAISE

    token = fields.String(required=True)
    new_password = NewPassword(required=True)


class ItemListQuery(Schema):
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_OFFSET))


class RowSchema(Schema):
    """A response schema of a model's rows: each field read as a plain attribute (Marshmallow's
    own accessor also tries keys, indexes and dotted paths, for every field of every row)."""

    def get_attribute(self, obj: Any, attr: str, default: Any) -> Any:
        return getattr(obj, attr, default)


class UserRead(RowSchema):
    """A user as the API returns it (models.User): never the password hash."""

    id = fields.Integer()
    email = fields.String(required=True, validate=validate.Length(max=EMAIL_MAX_LENGTH))
    is_active = fields.Boolean()
    is_superuser = fields.Boolean()


class TokenRequest(Schema):
    """The OAuth2 password-flow form; `username` is the e-mail address."""

    class Meta:
        # Swagger UI's "Authorize" dialog also sends grant_type, scope and client_id.
        unknown = EXCLUDE

    username = fields.String(required=True, validate=TEXT)
    password = fields.String(required=True)


class Token(Schema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True)


class HTTPError(Schema):
    detail = fields.String(required=True)


class ValidationErrorItem(Schema):
    loc = fields.List(fields.Raw(), required=True)
    msg = fields.String(required=True)
    type = fields.String(required=True)


class HTTPValidationError(Schema):
    detail = fields.List(fields.Nested(ValidationErrorItem), required=True)


class Health(Schema):
    status = fields.String(required=True)
    database = fields.String(required=True)


class Liveness(Schema):
    status = fields.String(required=True)


class Readiness(Schema):
    status = fields.String(required=True)
    database = fields.String(required=True)
    redis = fields.String(metadata={"description": "Present only when REDIS_URL is set."})
