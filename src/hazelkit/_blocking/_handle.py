"""What every blocking structure wrapper shares: running the async handle's calls."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

from hazelkit._blocking._runner import BlockingIterator, Runner
from hazelkit._core._buffer import Overflow
from hazelkit._core._events import EventStream, ItemEvent
from hazelkit._core._subscription import Subscription
from hazelkit._structures._collection import ItemCollection

__all__ = ["BlockingHandle", "BlockingItems", "open_events"]

T = TypeVar("T")


class AsyncHandle(Protocol):
    """The async handle a blocking wrapper delegates to."""

    @property
    def name(self) -> str: ...
    async def size(self) -> int: ...
    async def clear(self) -> None: ...
    async def destroy(self) -> None: ...


H = TypeVar("H", bound=AsyncHandle)


def open_events(run: Runner, make: Callable[[], EventStream[T]]) -> BlockingIterator[T]:
    """Open an event stream on the portal's loop and wrap it in a blocking iterator."""

    async def open_stream() -> Subscription[T]:
        return await make()

    return BlockingIterator(run, run(open_stream))


class BlockingHandle(Generic[H]):
    """A blocking wrapper of an async handle: the same calls, without ``await``."""

    def __init__(self, run: Runner, handle: H) -> None:
        self._run = run
        self._handle = handle
        self.name = handle.name

    def size(self) -> int:
        """The number of entries or items (a snapshot), as the async handle's ``size``."""
        return self._run(self._handle.size)

    def clear(self) -> None:
        """Remove everything in one call, as the async handle's ``clear``."""
        self._run(self._handle.clear)

    def destroy(self) -> None:
        """Remove the structure from the grid, as the async handle's ``destroy``."""
        self._run(self._handle.destroy)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


class BlockingItems(BlockingHandle[ItemCollection[Any, T]], Generic[T]):
    """A blocking Queue, Set or List: a snapshot of the items, and item events."""

    def items(self) -> list[T]:
        """Every item (a snapshot), as the async handle's ``items``."""
        return self._run(self._handle.items)

    def events(
        self,
        *,
        include_values: bool = True,
        capacity: int = 1024,
        overflow: Overflow = Overflow.SLIDE,
    ) -> BlockingIterator[ItemEvent[T]]:
        """The async handle's ``events()`` as a blocking iterator: ``with s.events() as
        events: for event in events: ...``; ``events.get(timeout=...)`` waits for one."""
        make = functools.partial(
            self._handle.events,
            include_values=include_values,
            capacity=capacity,
            overflow=overflow,
        )
        return open_events(self._run, make)
