"""The admin view of the Item resource (Flask-Admin).

The admin registers it by itself (admin.py).
"""

from typing import Any, ClassVar

from flask_admin import Admin
from sqlalchemy.orm import Session, scoped_session
from wtforms import FloatField, StringField, TextAreaField

from example.admin import SuperuserModelView, api_rules
from example.resources.items.model import Item
from example.resources.items.schemas import ItemCreate

COLUMNS = (
    "id",
    "name",
    "description",
    "price",
    "owner",
    "created_at",
    "updated_at",
)
# The list leaves out the text areas.
LISTED = tuple(name for name in COLUMNS if name not in ("description",))
# The fields whose form value is checked with the API's rules (admin.api_rules).
CHECKED = ("name", "description", "price")


class ItemView(SuperuserModelView):
    column_list = LISTED
    column_details_list = COLUMNS
    column_searchable_list = ("name", "description")
    column_default_sort = "id"
    form_columns = (
        "name",
        "description",
        "price",
        "owner",
    )
    form_overrides: ClassVar[dict[str, Any]] = {
        "name": StringField,
        "description": TextAreaField,
        "price": FloatField,
    }
    form_args = api_rules(ItemCreate(), CHECKED)


def register(admin: Admin, session: scoped_session[Session]) -> None:
    view: Any = ItemView(Item, session, name="Items", endpoint="item")
    admin.add_view(view)
