"""Example: the Flask application package.

Its entry point is `app.create_app`.
"""
