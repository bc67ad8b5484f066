"""A minimal hand-written Flask + SQLAlchemy app: the throughput baseline.

The same three endpoints and queries as a generated Flask project, written the way a
typical hand-written app would be: a module-level engine, a session per request, jsonify,
a bearer JWT (PyJWT, HS256) for the POST. Run under gunicorn's sync worker, e.g.

    BENCH_DATABASE_URL=postgresql+psycopg://... BENCH_SECRET_KEY=... \
        gunicorn flask_app:app --workers 1 --worker-class sync
"""

import os
from datetime import UTC, datetime
from typing import Any

import jwt
from flask import Flask, abort, jsonify, request
from sqlalchemy import DateTime, Float, ForeignKey, Integer, String, create_engine, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

engine = create_engine(os.environ["BENCH_DATABASE_URL"])
SECRET_KEY = os.environ["BENCH_SECRET_KEY"]


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    is_active: Mapped[bool]


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(String(1000))
    price: Mapped[float] = mapped_column(Float)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def item_json(item: Item) -> dict[str, Any]:
    return {
        "id": item.id,
        "name": item.name,
        "description": item.description,
        "price": item.price,
        "owner_id": item.owner_id,
        "created_at": item.created_at.isoformat(),
        "updated_at": item.updated_at.isoformat(),
    }


app = Flask(__name__)


@app.get("/api/v1/items")
def list_items() -> Any:
    limit = request.args.get("limit", 20, type=int)
    offset = request.args.get("offset", 0, type=int)
    if not 1 <= limit <= 100 or offset < 0:
        abort(422)
    with Session(engine) as session:
        total = session.scalar(select(func.count()).select_from(Item)) or 0
        rows = session.scalars(select(Item).order_by(Item.id).limit(limit).offset(offset))
        items = [item_json(row) for row in rows]
    return jsonify(items=items, total=total, limit=limit, offset=offset)


@app.get("/api/v1/items/<int:item_id>")
def read_item(item_id: int) -> Any:
    with Session(engine) as session:
        item = session.get(Item, item_id)
        if item is None:
            abort(404)
        return jsonify(item_json(item))


@app.post("/api/v1/items")
def create_item() -> Any:
    token = request.headers.get("Authorization", "").removeprefix("Bearer ")
    try:
        claims = jwt.decode(token, SECRET_KEY, algorithms=["HS256"])
    except jwt.InvalidTokenError:
        abort(401)
    body = request.get_json()
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("name"), str)
        or not isinstance(body.get("price"), int | float)
    ):
        abort(422)
    with Session(engine) as session:
        user = session.get(User, int(claims["sub"]))
        if user is None or not user.is_active:
            abort(401)
        now = datetime.now(UTC)
        item = Item(
            name=body["name"],
            description=body.get("description"),
            price=body["price"],
            owner_id=user.id,
            created_at=now,
            updated_at=now,
        )
        session.add(item)
        session.commit()
        response = jsonify(item_json(item))
    response.status_code = 201
    response.headers["Location"] = f"/api/v1/items/{item.id}"
    return response
