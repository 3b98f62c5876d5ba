"""The coordination and stream factories of :class:`~hazelkit.Cluster`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass

__all__ = ["CoordinationFactories"]


class CoordinationFactories:
    """Mixed into :class:`~hazelkit.Cluster`: locks, latches, semaphores and topics."""
