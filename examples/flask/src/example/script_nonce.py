"""The nonce of the page's Content-Security-Policy (headers.py) in its templates' scripts.

Apart from headers.py, which the app imports whatever it serves: this needs Jinja, which
only the pages need, loaded where they are set up.
"""

import re

from jinja2 import Environment
from jinja2.ext import Extension

from example.headers import csp_nonce


class ScriptNonceExtension(Extension):
    """Writes the page's nonce into every `<script>` tag of a template's source, as it is
    compiled: the scripts the templates hold run, and nothing a page displays (escaped as
    it renders) can carry the nonce. A tag that names a nonce already is left alone."""

    _SCRIPT_TAG = re.compile(r"<script\b(?![^>]*nonce)")

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.globals["csp_nonce"] = csp_nonce
        # Jinja code, in the environment's own delimiters: filled in as each page renders.
        start, end = environment.variable_start_string, environment.variable_end_string
        self._tag = f'<script nonce="{start} csp_nonce() {end}"'

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        return self._SCRIPT_TAG.sub(self._tag, source)
