"""The arguments every cluster command shares, spelled once."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["ConnectTimeout", "Url", "Yes"]

Url = Annotated[
    str | None,
    typer.Argument(
        metavar="URL",
        help="hazelcast://HOST:PORT?cluster=NAME (default: $HAZELKIT_URL). A memory:// grid "
        "lives in one process: from the command line it is always empty.",
        show_default=False,
    ),
]
ConnectTimeout = Annotated[
    float,
    typer.Option(
        metavar="SECONDS", min=0.1, help="Give up connecting after this long (exit code 3)."
    ),
]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do it without asking for confirmation.")]
