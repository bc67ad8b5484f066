"""A minimal hand-written FastAPI + SQLAlchemy (async) app: the throughput baseline.

The same three endpoints and queries as a generated FastAPI project, written the way a
typical hand-written app would be: a module-level async engine, a session dependency,
Pydantic models, a bearer JWT (PyJWT, HS256) for the POST. Run under uvicorn, e.g.

    BENCH_DATABASE_URL=postgresql+psycopg://... BENCH_SECRET_KEY=... \
        uvicorn fastapi_app:app --workers 1
"""

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

import jwt
from fastapi import Depends, FastAPI, Header, HTTPException, Query, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy import DateTime, Float, ForeignKey, Integer, String, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

engine = create_async_engine(os.environ["BENCH_DATABASE_URL"])
Session = async_sessionmaker(engine, expire_on_commit=False)
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


class ItemIn(BaseModel):
    name: str
    description: str | None = None
    price: float


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    description: str | None
    price: float
    owner_id: int
    created_at: datetime
    updated_at: datetime


class ItemPage(BaseModel):
    items: list[ItemOut]
    total: int
    limit: int
    offset: int


app = FastAPI()


async def get_session() -> AsyncIterator[AsyncSession]:
    async with Session() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


@app.get("/api/v1/items")
async def list_items(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ItemPage:
    total = await session.scalar(select(func.count()).select_from(Item)) or 0
    rows = await session.scalars(select(Item).order_by(Item.id).limit(limit).offset(offset))
    return ItemPage(
        items=[ItemOut.model_validate(row) for row in rows], total=total, limit=limit, offset=offset
    )


@app.get("/api/v1/items/{item_id}")
async def read_item(item_id: int, session: SessionDep) -> ItemOut:
    item = await session.get(Item, item_id)
    if item is None:
        raise HTTPException(404, "Item not found")
    return ItemOut.model_validate(item)


@app.post("/api/v1/items", status_code=201)
async def create_item(
    body: ItemIn, session: SessionDep, response: Response, authorization: str = Header("")
) -> ItemOut:
    try:
        claims = jwt.decode(authorization.removeprefix("Bearer "), SECRET_KEY, algorithms=["HS256"])
    except jwt.InvalidTokenError:
        raise HTTPException(401, "Could not validate credentials") from None
    user = await session.get(User, int(claims["sub"]))
    if user is None or not user.is_active:
        raise HTTPException(401, "Could not validate credentials")
    now = datetime.now(UTC)
    item = Item(**body.model_dump(), owner_id=user.id, created_at=now, updated_at=now)
    session.add(item)
    await session.commit()
    response.headers["Location"] = f"/api/v1/items/{item.id}"
    return ItemOut.model_validate(item)
