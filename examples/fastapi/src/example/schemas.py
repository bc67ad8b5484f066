"""Request and response bodies (Pydantic v2); FastAPI builds the OpenAPI schemas from them."""

import re
from datetime import datetime
from typing import Annotated, Literal, NotRequired

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    with_config,
)
from pydantic_core import PydanticCustomError

# typing.TypedDict before Python 3.12 lacks what Pydantic needs to validate it.
from typing_extensions import TypedDict

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

# Text that goes to the database holds no NUL character (models.TEXT_PATTERN).
Name = Annotated[str, Field(min_length=1, max_length=100, pattern=TEXT_PATTERN)]
Description = Annotated[str, Field(max_length=1000, pattern=TEXT_PATTERN)]
# strict: a JSON number, not a numeric string or a boolean (as in the Flask flavor).
Price = Annotated[float, Field(ge=0, allow_inf_nan=False, strict=True)]
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


class ItemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    description: Description | None = None
    price: Price


@with_config(ConfigDict(extra="forbid"))
class ItemUpdate(TypedDict):
    """A PATCH body: any subset of the fields.

    A TypedDict rather than a model: a key may be left out, but `name` and `price`
    may not be null, and the OpenAPI schema says exactly that.
    """

    name: NotRequired[Name]
    description: NotRequired[Description | None]
    price: NotRequired[Price]


class ItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str | None
    price: float
    owner_id: int
    created_at: Timestamp
    updated_at: Timestamp


class ItemPage(BaseModel):
    items: list[ItemRead]
    total: int
    limit: int
    offset: int
