"""The pool's check of a connection before use (a database restart closes them all)."""

from types import SimpleNamespace

import pytest
from sqlalchemy.exc import DisconnectionError

from example.db import discard_closed_connection


@pytest.mark.parametrize("closed", [True, False])
def test_the_pool_replaces_a_connection_the_server_closed(closed: bool) -> None:
    # A database restart closes the pooled connections: the pool must not hand one out.
    proxy = SimpleNamespace(driver_connection=SimpleNamespace(is_closed=lambda: closed))

    if closed:
        with pytest.raises(DisconnectionError):
            discard_closed_connection(None, None, proxy)
    else:
        discard_closed_connection(None, None, proxy)
