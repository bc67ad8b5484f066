"""The Item resource (the example of `scaffold new`).

Its model, schemas, API and admin view.

The app finds it by itself (example/resources/__init__.py):
nothing else names it.
"""
