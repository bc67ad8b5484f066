"""The admin view of the Item resource (Starlette-Admin).

The admin registers it by itself (admin/__init__.py).
"""

from pydantic import TypeAdapter
from starlette_admin import DateTimeField, HasOne, IntegerField, StringField, TextAreaField
from starlette_admin.contrib.sqla import Admin

from example.admin.views import FormFloatField, ResourceView
from example.resources.items.model import Item
from example.resources.items.schemas import ItemUpdate


class ItemView(ResourceView):
    fields = (
        IntegerField("id", label="ID"),
        StringField("name", minlength=1, maxlength=100, required=True),
        TextAreaField("description", maxlength=1000, exclude_from_list=True),
        FormFloatField("price", required=True),
        HasOne("owner", key="user", required=True),
        DateTimeField("created_at", label="Created", read_only=True, exclude_from_create=True),
        DateTimeField("updated_at", label="Updated", read_only=True, exclude_from_create=True),
    )
    searchable_fields = ("name", "description")
    sortable_fields = ("id", "name", "price", "created_at", "updated_at")
    fields_default_sort = ("id",)
    # The form's text and numbers are checked with the API's rules (ResourceView).
    api_rules = TypeAdapter(ItemUpdate)
    api_checked = ("name", "description", "price")


def register(admin: Admin) -> None:
    view = ItemView(Item, icon="fa fa-table", key="item")
    admin.add_view(view)
