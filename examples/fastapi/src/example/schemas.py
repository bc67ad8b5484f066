"""Request and response bodies (Pydantic v2); FastAPI builds the OpenAPI schemas from them."""

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from example.models import TEXT_PATTERN
from example.security import (
    PASSWORD_MAX_LENGTH,
    PASSWORD_MIN_LENGTH,
    InvalidEmailError,
    normalized_email,
    password_problem,
)

# The longest e-mail address the users table holds (models.User.email).
EMAIL_MAX_LENGTH = 320


def _plain_integer(value: object) -> object:
    # Python's int(), and so Pydantic, also reads "1_0", " 10" and "+10"; an id in a URL
    # is an optional minus sign and digits, as in the Flask flavor.
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value) is None:
        raise PydanticCustomError(
            "int_parsing", "Input should be a valid integer, unable to parse string as an integer"
        )
    return value


ItemId = Annotated[int, BeforeValidator(_plain_integer)]


def _password_policy(value: str) -> str:
    problem = password_problem(value)
    if problem is not None:
        raise PydanticCustomError("value_error", problem)
    return value


# A password being set (signup, change, reset): security.password_problem's policy, a 422
# {"msg": <its sentence>, "type": "value_error"} as in the Flask flavor.
NewPassword = Annotated[
    str,
    AfterValidator(_password_policy),
    Field(
        json_schema_extra={
            "minLength": PASSWORD_MIN_LENGTH,
            "maxLength": PASSWORD_MAX_LENGTH,
            "format": "password",
        }
    ),
]


def _email_address(value: str) -> str:
    try:
        return normalized_email(value)
    except InvalidEmailError as error:
        raise PydanticCustomError("value_error", str(error)) from None


# An e-mail address (security.normalized_email's syntax), in lower case; a 422
# {"msg": "value is not a valid email address: ...", "type": "value_error"} as in Flask.
EmailAddress = Annotated[
    str, AfterValidator(_email_address), Field(json_schema_extra={"maxLength": EMAIL_MAX_LENGTH})
]

# "+00:00" rather than Pydantic's "Z", as in the Flask flavor (both are ISO 8601).
Timestamp = Annotated[
    datetime,
    PlainSerializer(datetime.isoformat, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class Message(BaseModel):
    """Every error other than a validation error: {"detail": "..."}."""

    detail: str


class Health(BaseModel):
    status: Literal["ok", "error"]
    database: Literal["ok", "error"]


class Liveness(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ok", "error"]
    database: Literal["ok", "error"]
    redis: Literal["ok", "error"] | None = Field(
        default=None, description="Present only when REDIS_URL is set."
    )


class TokenRequest(BaseModel):
    """The OAuth2 password-flow form; `username` is the e-mail address. (Swagger UI's
    "Authorize" dialog also sends grant_type, scope and client_id: ignored.)"""

    username: Annotated[str, Field(pattern=TEXT_PATTERN)]
    password: str


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105  # the OAuth2 token type, no secret


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    is_active: bool
    is_superuser: bool


class Signup(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailAddress
    password: NewPassword


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: Annotated[str, Field(json_schema_extra={"format": "password"})]
    new_password: NewPassword


class PasswordResetRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailAddress


class PasswordResetConfirm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str
    new_password: NewPassword
