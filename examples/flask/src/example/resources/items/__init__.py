"""The Item resource (`scaffold add resource`).

Its model, schemas, API and admin view.

The app finds it by itself (example/resources/__init__.py):
nothing else names it.
"""
