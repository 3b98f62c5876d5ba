"""How every ``hazelkit`` command that talks to a cluster connects, fails and exits.

Exit codes, for scripts:

- 0: done;
- 1: the command failed (an error from the cluster, or a confirmation declined);
- 2: bad usage (an unknown option, a malformed URL or argument);
- 3: the cluster could not be reached within the connect timeout;
- 4: what the command names does not exist (no such workflow).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import typer
from rich.console import Console

from hazelkit._core._exceptions import (
    ClusterUnavailableError,
    ConfigurationError,
    HazelkitError,
    NoSuchEntityError,
    NotFoundError,
)

if TYPE_CHECKING:
    from hazelkit._core._cluster import Cluster

__all__ = [
    "EXIT_ERROR",
    "EXIT_NOT_FOUND",
    "EXIT_OK",
    "EXIT_UNREACHABLE",
    "EXIT_USAGE",
    "exit_code_of",
    "on_cluster",
]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
EXIT_NOT_FOUND = 4

T = TypeVar("T")
errors = Console(stderr=True)


def exit_code_of(error: HazelkitError) -> int:
    """The exit code for a command that failed with ``error``."""
    if isinstance(error, ClusterUnavailableError):
        return EXIT_UNREACHABLE
    if isinstance(error, NoSuchEntityError | NotFoundError):
        return EXIT_NOT_FOUND
    if isinstance(error, ConfigurationError):
        return EXIT_USAGE
    return EXIT_ERROR


def on_cluster(
    url: str | None, connect_timeout: float, work: Callable[[Cluster], Awaitable[T]]
) -> T:
    """Connect to ``url`` (``$HAZELKIT_URL`` when None), run ``work(cluster)``, close.

    A HazelkitError is printed on stderr as one line and ends the command with its exit
    code (see the module docs); an unreachable cluster fails within ``connect_timeout``.
    """
    import hazelkit

    async def run() -> T:
        async with hazelkit.connect(url, connect_timeout=connect_timeout) as cluster:
            return await work(cluster)

    try:
        return asyncio.run(run())
    except HazelkitError as error:
        errors.print(f"error: {error}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(exit_code_of(error)) from None
