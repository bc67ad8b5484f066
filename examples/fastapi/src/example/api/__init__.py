"""The HTTP API: one router per domain, each under /api/v1 (`API_PREFIX`)."""

from fastapi import APIRouter

from example import resources
from example.api import accounts, auth, users

API_PREFIX = "/api/v1"

# The app includes each of them itself (app.py), rather than one /api/v1 router holding
# them all: FastAPI matches a request against every level of nested routers, so a level
# less is less work for every request. They are matched in this order: the busiest first,
# the resources' routers (the example Item's and `scaffold add resource`'s, by name: see
# resources/__init__.py).
api_routers: list[APIRouter] = [
    *(module.router for module in resources.modules("api")),
    auth.router,
    users.router,
    accounts.router,
]
