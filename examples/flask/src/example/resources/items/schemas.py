"""Request and response bodies of /api/v1/items (Marshmallow)."""

from marshmallow import RAISE, Schema, fields, validate

from example.schemas import TEXT, JsonNumber, RowSchema


class ItemCreate(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=[validate.Length(min=1, max=100), TEXT])
    description = fields.String(
        load_default=None, allow_none=True, validate=[validate.Length(max=1000), TEXT]
    )
    price = JsonNumber(required=True, validate=validate.Range(min=0), allow_nan=False)


class ItemUpdate(Schema):
    """Any subset of the fields; a required one may be left out, not set to null."""

    class Meta:
        unknown = RAISE

    name = fields.String(validate=[validate.Length(min=1, max=100), TEXT])
    description = fields.String(allow_none=True, validate=[validate.Length(max=1000), TEXT])
    price = JsonNumber(validate=validate.Range(min=0), allow_nan=False)


class ItemRead(RowSchema):
    """What the API returns for one item."""

    id = fields.Integer()
    name = fields.String(required=True)
    description = fields.String(allow_none=True)
    price = fields.Float(required=True)
    owner_id = fields.Integer(required=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class ItemPage(Schema):
    items = fields.List(fields.Nested(ItemRead), required=True)
    total = fields.Integer(required=True)
    limit = fields.Integer(required=True)
    offset = fields.Integer(required=True)
