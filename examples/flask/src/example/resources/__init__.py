"""The resources, the example `items` and those added with `scaffold add resource`: one
subpackage each, found here.

Each `resources/<plural>/` holds the resource's `model.py`, `schemas.py`, `api.py` and, with
the admin, `admin.py`. Nothing names them anywhere else: models.py imports every `model`
(so that the tables are in Base.metadata, for the app, Alembic and the tests), the app
includes every `api` module's router and the admin registers every `admin` module's view.
Adding a resource adds files only, and never edits one of yours.
"""

import importlib
import importlib.util
import pkgutil
from types import ModuleType


def modules(kind: str) -> list[ModuleType]:
    """The `kind` module (`model`, `api`, `admin`) of every resource that has one, by name."""
    names = sorted(info.name for info in pkgutil.iter_modules(__path__) if info.ispkg)
    return [
        importlib.import_module(f"{__name__}.{name}.{kind}")
        for name in names
        if importlib.util.find_spec(f"{__name__}.{name}.{kind}") is not None
    ]
