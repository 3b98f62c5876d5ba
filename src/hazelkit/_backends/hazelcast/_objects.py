"""The distributed objects of a Hazelcast cluster, as the members list them.

The asyncio client lists only the proxies it created itself; the members know every
structure. This sends the protocol's ``Client.GetDistributedObjects`` request (what the
blocking client's ``get_distributed_objects`` sends) and creates no proxy.
"""

from __future__ import annotations

from typing import Any

import hazelcast.internal.asyncio_invocation as _hz_invocation
from hazelcast.protocol.codec import client_get_distributed_objects_codec as _codec

__all__ = ["KINDS", "distributed_objects"]

Invocation: Any = _hz_invocation.Invocation
codec: Any = _codec

#: Hazelcast service names, as hazelkit's backend protocol names the kinds.
KINDS = {
    "hz:impl:mapService": "map",
    "hz:impl:multiMapService": "multimap",
    "hz:impl:queueService": "queue",
    "hz:impl:setService": "set",
    "hz:impl:listService": "list",
    "hz:impl:ringbufferService": "ringbuffer",
    "hz:impl:topicService": "topic",
    "hz:impl:flakeIdGeneratorService": "ids",
}


async def distributed_objects(client: Any) -> list[tuple[str, str]]:
    """``(kind, name)`` of every structure of a kind hazelkit uses, sorted."""
    invocation = Invocation(codec.encode_request(), response_handler=lambda message: message)
    response = await client._invocation_service.ainvoke(invocation)
    found = codec.decode_response(response)
    return sorted(
        (KINDS[info.service_name], info.name) for info in found if info.service_name in KINDS
    )
