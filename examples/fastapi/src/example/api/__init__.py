"""The HTTP API: one router per domain; `api_router` is everything under /api/v1."""

from fastapi import APIRouter

from example.api import auth, items, users

api_router = APIRouter(prefix="/api/v1")
api_router.include_router(auth.router)
api_router.include_router(users.router)
api_router.include_router(items.router)
