"""The HTTP API: one router per domain, each under /api/v1 (`API_PREFIX`)."""

from fastapi import APIRouter

from example import resources
from example.api import accounts, auth, items, users

API_PREFIX = "/api/v1"

# The app includes each of them itself (app.py), rather than one /api/v1 router holding
# them all: FastAPI matches a request against every level of nested routers, so a level
# less is less work for every request. They are matched in this order: the busiest first.
api_routers: list[APIRouter] = [
    items.router,
    auth.router,
    users.router,
    accounts.router,
    # The resources' routers (`scaffold add resource`), by name: see resources/__init__.py.
    *(module.router for module in resources.modules("api")),
]
