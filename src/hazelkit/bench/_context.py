"""The contract between the runner and a benchmark: :class:`Benchmark` and
:class:`Context`.

A benchmark is a module of :mod:`hazelkit.bench._suites` that defines ``BENCHMARK``, a
:class:`Benchmark` whose ``run`` coroutine takes the :class:`Context` and returns a
:class:`~hazelkit.bench._model.Result`. The Context gives it the mode, a way to print
progress, unique structure names, and Hazelcast members (started on first request and
stopped after the whole run, so several benchmarks share them).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hazelkit._core._exceptions import HazelkitError
from hazelkit.bench._model import Mode, Result

if TYPE_CHECKING:
    from hazelkit.testing import LocalCluster

__all__ = ["Benchmark", "Context"]


@dataclass(frozen=True)
class Benchmark:
    """One benchmark: its name on the command line, a title, its place in a full run
    (``order``, ascending) and the coroutine that runs it.

    ``run`` must finish in the time its mode allows (``--quick``: a few seconds; full:
    a few minutes), use only structure names from :meth:`Context.name`, and release
    everything it opened (connections, structures) before returning, even on error.
    """

    name: str
    title: str
    order: int
    run: Callable[[Context], Awaitable[Result]]
    summary: str = ""


@dataclass
class Context:
    """What a running benchmark may use.

    ``url`` is the ``--url`` given on the command line: a ``hazelcast://`` URL (use
    that cluster), a ``memory://`` URL (embedded only: benchmarks skip their Hazelcast
    contenders), or None (a local Hazelcast member is started when first asked for).
    """

    mode: Mode
    out: Path
    url: str | None = None
    echo: Callable[[str], None] = print
    #: What was measured on (``source``, ``version``) or why not (``unavailable``).
    hazelcast: dict[str, Any] = field(default_factory=dict)
    _local: LocalCluster | None = field(default=None, init=False, repr=False)
    _resolved: bool = field(default=False, init=False, repr=False)
    _hazelcast_url: str | None = field(default=None, init=False, repr=False)

    @property
    def smoke(self) -> bool:
        """Whether this is a smoke run (numbers meaningless, only completeness checked)."""
        return self.mode is Mode.SMOKE

    def name(self, prefix: str) -> str:
        """A structure name no other benchmark or run uses."""
        return f"bench-{prefix}-{uuid.uuid4().hex[:10]}"

    async def backends(self, prefix: str, *, hazelcast: str = "hazelcast") -> dict[str, str]:
        """The grids to measure, by label: a fresh embedded grid always, and the
        Hazelcast cluster (under the label ``hazelcast``) when there is one."""
        backends = {"embedded": f"memory://{self.name(prefix)}"}
        url = await self.hazelcast_url()
        if url is not None:
            backends[hazelcast] = url
        return backends

    async def hazelcast_url(self) -> str | None:
        """The URL of the Hazelcast cluster to measure, or None when there is none.

        Without ``--url``, one local member (full JIT, 512 MB heap) is started on
        first call and reused by every later benchmark of the run. If it cannot
        start (no JDK, no jar), or ``--url`` is an embedded grid, returns None and
        ``hazelcast["unavailable"]`` says why.
        """
        if not self._resolved:
            self._resolved = True
            self._hazelcast_url = await self._resolve()
        return self._hazelcast_url

    async def _resolve(self) -> str | None:
        if self.url is not None and not self.url.startswith("hazelcast://"):
            self.hazelcast["unavailable"] = f"--url {self.url} is not a Hazelcast cluster"
            return None
        if self.url is not None:
            self.hazelcast.update(source="given with --url")
            return self.url
        return await self._start_local()

    async def _start_local(self) -> str | None:
        from hazelkit.testing import HAZELCAST_VERSION, LocalCluster

        self.echo(f"starting a local Hazelcast {HAZELCAST_VERSION} member ...")
        local = LocalCluster(1, heap="512m", jvm_options=())
        try:
            await asyncio.to_thread(local.start)
        except HazelkitError as error:
            await asyncio.to_thread(local.stop)
            self.hazelcast["unavailable"] = f"no local Hazelcast member: {error}"
            self.echo(self.hazelcast["unavailable"])
            return None
        self._local = local
        self.hazelcast.update(
            source="1 local member started by the benchmark (loopback, 512 MB heap, full JIT)",
            version=HAZELCAST_VERSION,
            members=1,
        )
        return local.url

    async def aclose(self) -> None:
        """Stop the local member, if one was started. Idempotent."""
        local, self._local = self._local, None
        if local is not None:
            await asyncio.to_thread(local.stop)
