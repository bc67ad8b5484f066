"""Example: the FastAPI application package (entry point: `app.create_app`)."""
