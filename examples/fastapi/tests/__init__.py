"""The project's tests: fixtures in tests/common.py and tests/conftest.py.

pytest imports this package before anything else of the tests: the garbage collector is off
from here until collection ends. Its full collections walked every module imported so far,
again and again, while none of it was garbage (a twentieth of a run); tests/common.py turns
it back on once the tests are collected, after freezing what was imported (`gc.freeze`).
Only under pytest (which sets PYTEST_VERSION before it imports any of this): a script that
imports a helper of the tests keeps its garbage collector.
"""

import gc
import os

if "PYTEST_VERSION" in os.environ:
    gc.disable()
