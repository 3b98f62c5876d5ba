"""The raw hazelcast-python-client, set up exactly as hazelkit sets up its own.

The contenders of benchmark 3 that use the raw client get hazelkit's client
configuration (same members, same timeouts, the same ``Blob`` serializer with pickle
refused), so the only difference between them and hazelkit is hazelkit's own layers.
See ``_map_workload`` for why pre-encoded ``Blob`` values are the strictest baseline.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import AsyncIterator
from typing import Any

from hazelkit._backends.protocol import BackendListener

__all__ = ["blob", "raw_client"]


def blob(data: bytes) -> Any:
    """``data`` in hazelkit's marker type, ready for the raw client."""
    from hazelkit._backends.hazelcast._serialization import Blob

    return Blob(data)


@contextlib.asynccontextmanager
async def raw_client(url: str, **options: Any) -> AsyncIterator[Any]:
    """A started raw asyncio client for ``url`` with hazelkit's configuration, updated
    with ``options`` (client configuration keywords); shut down on exit."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The asyncore module", DeprecationWarning)
        from hazelcast.asyncio import HazelcastClient
    from hazelkit._backends.hazelcast import HazelcastBackend
    from hazelkit._core._url import parse_url

    ignore = BackendListener(lambda state: None, lambda event: None)
    config = HazelcastBackend(parse_url(url))._client_config(ignore)
    config.update(options)
    client = await HazelcastClient.create_and_start(**config)
    try:
        yield client
    finally:
        await client.shutdown()
