"""Where sessions live: the store must be named, and an embedded grid must be asked for.

Sessions on ``memory://`` live in one process. Under ``uvicorn --workers 2`` or gunicorn,
each worker would have its own sessions, and a user logged in by one worker would look
logged out to the others, at random and without any error. So the integrations refuse
to pick a store by default, and refuse an embedded grid unless told ``allow_memory=True``.
"""

from __future__ import annotations

import os

from hazelkit._core._exceptions import ConfigurationError
from hazelkit._core._url import URL_ENVIRONMENT_VARIABLE, parse_url

__all__ = ["check_store"]

_EXAMPLE = "url='hazelcast://127.0.0.1:5701?cluster=dev'"


def check_store(
    who: str, *, url: str | None, cluster_url: str | None, allow_memory: bool
) -> str | None:
    """The URL ``who`` should connect to: ``url``, else ``$HAZELKIT_URL``; None when the
    caller gave a cluster (whose URL is ``cluster_url``).

    Raises ConfigurationError if both or neither of a URL and a cluster are given (and
    ``$HAZELKIT_URL`` is not set), if the URL is malformed, or if the store is an
    embedded ``memory://`` grid and ``allow_memory`` is false; the message says why.
    """
    if cluster_url is not None and url is not None:
        raise ConfigurationError(f"{who}: give either cluster= or url=, not both")
    where = cluster_url or url or os.environ.get(URL_ENVIRONMENT_VARIABLE)
    if not where:
        raise ConfigurationError(
            f"{who} needs to be told where the sessions live, so that every worker process "
            f"shares them: {_EXAMPLE}, cluster=CLUSTER, or ${URL_ENVIRONMENT_VARIABLE} "
            "(allow_memory=True with url='memory://NAME' for one process: tests, development)"
        )
    if parse_url(where).scheme == "memory" and not allow_memory:
        raise ConfigurationError(
            f"{who}: {where} is an embedded grid, which lives in this process only: other "
            "worker processes (uvicorn --workers, gunicorn) and other machines would not see "
            "its sessions, and users would look logged out at random. Use a Hazelcast URL "
            f"({_EXAMPLE}), or pass allow_memory=True for a single process (tests, development)"
        )
    return None if cluster_url is not None else where
