"""The admin's model views: users, and the base of the resources' views (resources/*/admin.py).

hashed_password is in no view's `fields`: it is never listed, shown, searched, exported,
imported or edited. The users' forms have a plain `password` field instead, hashed with
security.hash_password on save (required for a new user, left empty to keep it unchanged).
"""

from collections.abc import Sequence
from typing import Any, ClassVar

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette_admin import (
    BooleanField,
    DateTimeField,
    FloatField,
    HasOne,
    IntegerField,
    PasswordField,
    StringField,
)
from starlette_admin.contrib.sqla import ModelView
from starlette_admin.exceptions import FormValidationError

from example.models import MAX_ID, NUL, User
from example.security import hash_password, password_problem


class FormFloatField(FloatField):
    """A FloatField for which a form without the field is an error, not a crash (a resource's
    float field, such as the item's price)."""

    async def parse_form_data(self, request: Request, form_data: FormData) -> float | None:
        if form_data.get(self.id) is None:
            return None
        return await super().parse_form_data(request, form_data)


def _valid_id(pk: Any) -> int | None:
    try:
        number = int(pk)
    except (TypeError, ValueError):
        return None
    return number if 1 <= number <= MAX_ID else None


class IdModelView(ModelView):
    """A malformed or out-of-range id in a URL names no row (404), instead of a crash."""

    async def find_by_pk(self, request: Request, pk: Any) -> Any:
        number = _valid_id(pk)
        return None if number is None else await super().find_by_pk(request, number)

    async def find_by_pks(self, request: Request, pks: list[Any]) -> Sequence[Any]:
        numbers = [number for number in map(_valid_id, pks) if number is not None]
        return await super().find_by_pks(request, numbers)


class ResourceView(IdModelView):
    """The view of a resource (`scaffold add resource`): its forms refuse what its API refuses,
    with the API's message, rather than leave it to the database (PostgreSQL refuses an
    over-long string or an out-of-range number: a crash, not a form error)."""

    # The API's rules: the resource's update schema, which takes any subset of the fields;
    # checked on the fields whose form value is what the API reads (text and numbers).
    api_rules: ClassVar[TypeAdapter[Any]]
    api_checked: ClassVar[tuple[str, ...]] = ()

    async def validate(self, request: Request, data: dict[str, Any]) -> None:
        errors: dict[str | int, Any] = {}
        if self.api_checked:
            try:
                self.api_rules.validate_python({name: data.get(name) for name in self.api_checked})
            except ValidationError as error:
                for problem in error.errors():
                    errors.setdefault(str(problem["loc"][0]), problem["msg"])
        for field in self.fields:
            # A required row that no longer exists (deleted since the form was shown).
            if isinstance(field, HasOne) and field.required and data.get(field.name) is None:
                errors[field.name] = "Choose an existing row."
        if errors:
            raise FormValidationError(errors)


async def _hashed(password: str) -> str:
    """The hash of a new password, or the form error the password policy gives."""
    problem = password_problem(password)
    if problem is not None:
        raise FormValidationError({"password": problem})
    return await run_in_threadpool(hash_password, password)


class UserView(IdModelView):
    fields = (
        IntegerField("id", label="ID"),
        # An <input type="email">, checked in `validate` like the CLI checks it
        # (Starlette-Admin's EmailField would need the email-validator package).
        StringField("email", label="E-mail", input_type="email", required=True, maxlength=320),
        PasswordField(
            "password",
            help_text="Required for a new user; leave empty to keep the current password.",
            form_template="password_input.html",
            exclude_from_list=True,
            exclude_from_detail=True,
            exclude_from_export=True,
            exclude_from_import=True,
        ),
        BooleanField("is_active", label="Active"),
        BooleanField("is_superuser", label="Superuser"),
        DateTimeField("created_at", label="Created", read_only=True, exclude_from_create=True),
    )
    searchable_fields = ("email",)
    sortable_fields = ("id", "email", "is_active", "is_superuser", "created_at")
    fields_default_sort = ("id",)
    # An import would bypass the password hashing below.
    importers = ()

    async def validate(self, request: Request, data: dict[str, Any]) -> None:
        email = data["email"] = data["email"].strip().lower()
        if "@" not in email or len(email) > 320 or NUL in email:
            raise FormValidationError({"email": "Enter an e-mail address."})
        same_email = select(func.count()).select_from(User).where(User.email == email)
        edited_id = _valid_id(request.query_params.get("pk"))
        if edited_id is not None:  # a user keeps their own address
            same_email = same_email.where(User.id != edited_id)
        session: AsyncSession = request.state.session
        if await session.scalar(same_email):
            raise FormValidationError({"email": "A user with this e-mail address exists."})

    async def before_create(self, request: Request, data: dict[str, Any], obj: Any) -> None:
        if not data.get("password"):
            raise FormValidationError({"password": "A new user needs a password."})
        obj.hashed_password = await _hashed(data["password"])

    async def before_edit(self, request: Request, data: dict[str, Any], obj: Any) -> None:
        if data.get("password"):
            obj.hashed_password = await _hashed(data["password"])
