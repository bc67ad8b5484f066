"""scaffold: render a ready-to-run Flask or FastAPI service from one copier questionnaire."""

__version__ = "0.2.0"

__all__ = ["__version__"]
