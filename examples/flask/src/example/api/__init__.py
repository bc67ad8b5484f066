"""The HTTP API: one flask-smorest blueprint per concern, registered in one place."""

from typing import Any

from example import resources
from example.api import accounts, auth, health, users


def register_blueprints(api: Any) -> None:
    """Register every blueprint, and so its operations in /openapi.json, on a flask-smorest Api."""
    # The resources' blueprints (the example Item's and `scaffold add resource`'s) last, by
    # name: resources/__init__.py.
    resource_apis = resources.modules("api")
    for module in (health, auth, users, accounts, *resource_apis):
        api.register_blueprint(module.blp)
