"""The HTTP API: one flask-smorest blueprint per concern, registered in one place."""

from typing import Any

from example.api import accounts, auth, health, items, users


def register_blueprints(api: Any) -> None:
    """Register every blueprint, and so its operations in /openapi.json, on a flask-smorest Api."""
    for module in (health, auth, users, accounts, items):
        api.register_blueprint(module.blp)
