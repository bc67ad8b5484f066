"""Example: the Flask application package (entry point: `app.create_app`)."""
