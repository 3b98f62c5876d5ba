"""One node process of the singleton process test (``test_singleton_processes.py``).

Run as ``python singleton_worker.py CONFIG_JSON``: register the singleton ``PREFIX`` with
the given lease, write ``node-LABEL.json`` (its pid), and run until SIGTERM (then leave
gracefully, exit 0) or until ``run_for`` seconds passed (exit 3: never reached when the
test goes well).

The singleton, given fencing token ``token``, writes every ``interval`` seconds, as a
fenced resource would accept writes: it reads the entry ``holder`` of map ``PREFIX-fence``
(``{"token", "n", "pid"}``) and, if that token is not newer than its own, replaces it by
compare-and-set with ``n + 1``, then records write ``n + 1`` in map ``PREFIX-log``
(``{"token", "pid", "t"}``, ``t`` wall-clock seconds). A write refused because the
holder's token is newer (this instance is stale: another started after it) is appended to
``fenced-LABEL.jsonl`` and the instance stops writing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import hazelkit


def writer(cluster: hazelkit.Cluster, config: dict[str, Any]) -> Any:
    """The singleton's function (see the module docstring)."""
    fence = cluster.map(f"{config['prefix']}-fence")
    log = cluster.map(f"{config['prefix']}-log")
    fenced = Path(config["folder"]) / f"fenced-{config['label']}.jsonl"

    async def run(token: int) -> None:
        while True:
            holder = await fence.get("holder")
            if holder is not None and holder["token"] > token:
                line = {"token": token, "holder": holder, "t": time.time()}
                with fenced.open("a") as out:
                    out.write(json.dumps(line) + "\n")
                return
            number = 1 if holder is None else holder["n"] + 1
            new = {"token": token, "n": number, "pid": os.getpid()}
            if holder is None:
                wrote = await fence.put_if_absent("holder", new) is None
            else:
                wrote = await fence.replace_if_same("holder", holder, new)
            if wrote:
                await log.set(number, {"token": token, "pid": os.getpid(), "t": time.time()})
            await asyncio.sleep(config["interval"])

    return run


async def node(config: dict[str, Any]) -> int:
    folder = Path(config["folder"])
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with (
        hazelkit.connect(config["url"]) as cluster,
        cluster.singleton(config["prefix"], writer(cluster, config), lease=config["lease"]),
    ):
        (folder / f"node-{config['label']}.json").write_text(json.dumps({"pid": os.getpid()}))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), config["run_for"])
    return 0 if stop.is_set() else 3


def main() -> None:
    config = json.loads(sys.argv[1])
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(process)d %(levelname)s %(message)s"
    )
    sys.exit(asyncio.run(node(config)))


if __name__ == "__main__":
    main()
