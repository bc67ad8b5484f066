"""Request and response bodies of /api/v1/items (Pydantic v2)."""

from typing import Annotated, NotRequired

from pydantic import BaseModel, ConfigDict, Field, with_config

# typing.TypedDict before Python 3.12 lacks what Pydantic needs to validate it.
from typing_extensions import TypedDict

from example.models import TEXT_PATTERN
from example.schemas import Timestamp

# What each field's value must be, in a create and in an update alike.
NameValue = Annotated[str, Field(min_length=1, max_length=100, pattern=TEXT_PATTERN)]
DescriptionValue = Annotated[str, Field(max_length=1000, pattern=TEXT_PATTERN)]
PriceValue = Annotated[float, Field(ge=0, strict=True, allow_inf_nan=False)]


class ItemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: NameValue
    description: DescriptionValue | None = None
    price: PriceValue


@with_config(ConfigDict(extra="forbid"))
class ItemUpdate(TypedDict):
    """A PATCH body: any subset of the fields (a required one may be left out, not null)."""

    name: NotRequired[NameValue]
    description: NotRequired[DescriptionValue | None]
    price: NotRequired[PriceValue]


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
