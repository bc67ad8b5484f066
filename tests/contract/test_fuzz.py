"""Schema-driven fuzzing (schemathesis) of both frameworks against their own /openapi.json.

Every operation the running server documents is fuzzed with positive (schema-conforming)
and negative (schema-violating) data, once anonymously and once with the normal user's
bearer token (the login operation only anonymously: a token means nothing there). The
fuzzed server has its own database and a login limit it never reaches
(conftest.fuzz_server), so the contract server's data and rate limit are untouched.

Checks, the same for both frameworks:
- not_a_server_error: no input, however malformed, produces a 5xx (the contract's rule);
- status_code_conformance: every status code an operation answers with is documented
  for it, so a client generated from either spec knows every answer it can get;
- content_type_conformance: the answer's media type is one the operation documents;
- response_schema_conformance: the body matches the schema documented for its status,
  errors included (the spec tells the truth about the API).

schemathesis' pytest integration for schemas that come from a fixture
(``schemathesis.pytest.from_fixture``) fails on pytest 9 (it sets ``Function._nodeid``,
which pytest 9 removed), and the servers only exist once the fixtures ran, so each
operation is driven here with ``APIOperation.as_strategy()`` and Hypothesis directly,
one subtest per operation.

The fuzzing runs on SQLite and on PostgreSQL (``every_database``), whose driver refuses
what SQLite takes (a NUL character in text, an integer beyond 64 bits).
"""

from __future__ import annotations

from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err, Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.contract.conftest import FUZZ_REQUESTS, TOKEN_URL, Server

pytestmark = pytest.mark.contract

MAX_EXAMPLES = 30
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
SETTINGS = hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    # Reproducible: the same requests on every run for a given schema.
    derandomize=True,
    database=None,
    # No shrinking: a failure is reported with the request that failed (as curl), and the
    # number of requests stays bounded.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    report_multiple_bugs=False,
)


def fuzz_operation(
    operation: schemathesis.APIOperation[Any, Any, Any, Any],
    server: Server,
    mode: schemathesis.GenerationMode,
    headers: dict[str, str],
) -> None:
    @SETTINGS
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    def run(case: schemathesis.Case[Any]) -> None:
        response = case.call(base_url=server.base_url, headers=headers, timeout=30)
        FUZZ_REQUESTS[server.framework] += 1
        checks = [*CHECKS, negative_data_rejection] if mode.is_negative else CHECKS
        case.validate_response(response, checks=checks, headers=headers)

    run()


@pytest.mark.every_database
@pytest.mark.parametrize("mode", list(schemathesis.GenerationMode), ids=str)
@pytest.mark.parametrize("auth", ["anonymous", "user"])
def test_fuzz(
    fuzz_server: Server,
    subtests: pytest.Subtests,
    auth: str,
    mode: schemathesis.GenerationMode,
) -> None:
    schema = schemathesis.openapi.from_url(f"{fuzz_server.base_url}/openapi.json", timeout=30)
    # Negative data may make a request line longer than a server reads (gunicorn: 4094 bytes);
    # its 414, before the app (JSON in both frameworks), is a rejection too.
    rejection = schema.config.checks.negative_data_rejection
    if "414" not in rejection.expected_statuses:
        rejection.expected_statuses = [*rejection.expected_statuses, "414"]
    headers = fuzz_server.auth(fuzz_server.user) if auth == "user" else {}
    operations = 0
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            with subtests.test(msg="invalid operation in the schema"):
                raise result.err()
            continue
        assert isinstance(result, Ok)
        operation = result.ok()
        if headers and operation.path == TOKEN_URL:
            continue
        operations += 1
        with subtests.test(msg=f"{operation.method.upper()} {operation.path}"):
            try:
                fuzz_operation(operation, fuzz_server, mode, headers)
            except hypothesis.errors.Unsatisfiable:
                # Nothing to violate (e.g. no parameters and no body): no negative data.
                assert mode is schemathesis.GenerationMode.NEGATIVE
                pytest.skip(f"no negative data for {operation.label}")
    assert operations >= 7, f"only {operations} operations were fuzzed"
