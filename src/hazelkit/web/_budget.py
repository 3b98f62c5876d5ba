"""One time budget per request for waiting on the session store (load and save together).

Without it, an unresponsive store would hold each request for the load's timeout and
then again for the save's, and occupy a worker thread (Flask) for as long.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

import anyio

from hazelkit._core._exceptions import OperationTimeoutError

__all__ = ["RequestBudget", "SessionTimeoutError"]

logger = logging.getLogger("hazelkit.web")
P = ParamSpec("P")
T = TypeVar("T")


class SessionTimeoutError(OperationTimeoutError):
    """The session store did not answer within the request's budget (``timeout``).

    Raised by the integrations instead of the response: the request fails (a 500 unless
    the app handles it). When raised while saving, the request's changes may or may not
    have been stored; they were never partly applied (each save is one compare-and-set).
    """


class RequestBudget:
    """The seconds one request may still spend waiting on the store."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.used = 0.0

    @property
    def remaining(self) -> float:
        """Seconds left (zero or less when spent)."""
        return self.seconds - self.used

    async def run(
        self, what: str, func: Callable[P, Awaitable[T]], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``await func(*args, **kwargs)``, cancelled when the budget runs out.

        Raises SessionTimeoutError (naming ``what`` and the budget) when it does.
        """
        started = time.monotonic()
        try:
            with anyio.move_on_after(max(self.remaining, 0.0)) as scope:
                return await func(*args, **kwargs)
        finally:
            self.used += time.monotonic() - started
        assert scope.cancelled_caught
        raise SessionTimeoutError(
            f"the session store did not answer in time ({what}): this request's budget "
            f"of {self.seconds:g} s for the session store (timeout=) is spent"
        )


async def within(seconds: float, func: Callable[P, Awaitable[None]], *args: P.args,
                 **kwargs: P.kwargs) -> None:  # fmt: skip
    """``await func(...)``, given up (and logged) after ``seconds``: for best-effort work
    after the response, such as renewing an idle timeout."""
    with anyio.move_on_after(seconds) as scope:
        await func(*args, **kwargs)
    if scope.cancelled_caught:
        logger.warning("the session store did not answer within %g s; gave up", seconds)
