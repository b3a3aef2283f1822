"""The caller of the operation being executed, for the transports to hand to subgraphs.

The router sets it around an operation's execution; the in-process transport builds each
subgraph context with it and the HTTP transport signs it into the identity header. A context
variable follows the operation into every task it starts (concurrent fetches, a subscription's
stream), so the transports' signatures stay as they are.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from nexus.auth.caller import ANONYMOUS, Caller

_CALLER: ContextVar[Caller] = ContextVar("nexus_caller", default=ANONYMOUS)


def current_caller() -> Caller:
    return _CALLER.get()


@contextmanager
def calling_as(caller: Caller) -> Iterator[None]:
    token = _CALLER.set(caller)
    try:
        yield
    finally:
        _CALLER.reset(token)
