"""Example: the FastAPI application package.

Its entry point is `app.create_app`.
"""
