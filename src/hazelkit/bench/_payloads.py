"""The fixed payloads the benchmarks encode and store.

Records are built from a fixed seed, so every run measures the same values; the 64 KB
document is a committed file (``payloads/document.md``, written once by
``_make_document``). Records are distinct objects with distinct values (fresh strings,
fresh time zones), as values decoded from a database or a request would be, so that
pickle's memo cannot share them where real data would not let it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from functools import cache
from typing import Any
from uuid import UUID

from hazelkit.bench._make_document import DOCUMENT_PATH

__all__ = ["SEED", "Payload", "codec_payloads", "map_value", "user_record"]

SEED = 20_160_501  # Clojurecast's era; any fixed value would do
_FIRST = ["Ada", "Grace", "Alan", "Barbara", "Edsger", "Frances", "Ken", "Radia", "Tim", "Hedy"]
_LAST = ["Lovelace", "Hopper", "Turing", "Liskov", "Dijkstra", "Allen", "Thompson", "Perlman"]
_CITIES = ["Lyon", "Porto", "Leeds", "Turku", "Ghent", "Brno", "Graz", "Cork", "Bergen"]
_TAGS = ["admin", "beta", "staff", "trial", "vip", "partner", "press", "support", "ops"]


@dataclass(frozen=True)
class Payload:
    """A named value to encode; ``label`` describes it in tables."""

    name: str
    label: str
    value: Any


def _fresh(text: str) -> str:
    """An equal string that is a distinct object (as decoded data would be)."""
    return "".join([text[:1], text[1:]]) if len(text) > 1 else text


def user_record(rng: random.Random, index: int) -> dict[str, Any]:
    """A user record of mixed types: str, int, float, bool, tz-aware datetimes (UTC and
    a fixed offset), UUID, Decimal, tuple, set and nested dicts."""
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    offset = timezone(timedelta(hours=rng.choice([-7, -5, 1, 2, 9]), minutes=rng.choice([0, 30])))
    created = datetime(2015, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(300_000_000))
    return {
        "id": 100_000 + index,
        "uuid": UUID(int=rng.getrandbits(128), version=4),
        "name": f"{first} {last}",
        "email": f"{first.lower()}.{last.lower()}{index}@example.org",
        "score": rng.uniform(0.0, 100.0),
        "active": rng.random() < 0.8,
        "balance": Decimal(rng.randrange(-(10**6), 10**8)).scaleb(-2),
        "created": created,
        "last_login": (created + timedelta(days=rng.randrange(1, 900))).astimezone(offset),
        "location": (round(rng.uniform(-90, 90), 6), round(rng.uniform(-180, 180), 6)),
        "tags": {_fresh(tag) for tag in rng.sample(_TAGS, rng.randint(1, 4))},
        "address": {
            "street": f"{rng.randrange(1, 400)} {rng.choice(_LAST)} Street",
            "city": _fresh(rng.choice(_CITIES)),
            "postcode": f"{rng.randrange(10_000, 99_999)}",
        },
        "preferences": {
            "theme": _fresh(rng.choice(["dark", "light"])),
            "newsletter": True,
            "limits": {"daily": rng.randrange(100, 10_000), "monthly": None},
        },
    }


@cache
def _document_text() -> str:
    return DOCUMENT_PATH.read_text(encoding="utf-8")


def document() -> dict[str, Any]:
    """The 64 KB text-heavy document: a title, metadata, and sections of paragraphs."""
    sections: list[dict[str, Any]] = []
    for block in _document_text().split("\n\n"):
        if block.startswith("## ") or not sections:
            sections.append({"heading": block.removeprefix("## ").strip(), "paragraphs": []})
        else:
            sections[-1]["paragraphs"].append(block.strip())
    return {
        "title": "On clusters, queues and quiet mornings",
        "author": "hazelkit benchmarks",
        "published": datetime(2016, 5, 1, 9, 30, tzinfo=UTC),
        "revision": 7,
        "sections": sections,
    }


def integers(count: int = 10_000, seed: int = SEED) -> list[int]:
    """``count`` ints of every magnitude from 1 to 10**9 (log-uniform), as ids and
    counters are."""
    rng = random.Random(seed)  # noqa: S311 - fixed data, not secrets
    return [int(10 ** rng.uniform(0, 9)) for _ in range(count)]


def codec_payloads(seed: int = SEED) -> list[Payload]:
    """The codec benchmark's payload set, the same on every run."""
    rng = random.Random(seed)  # noqa: S311 - fixed data, not secrets
    return [
        Payload("record", "1 user record (mixed types)", user_record(rng, 0)),
        Payload("records", "100 distinct user records", [user_record(rng, i) for i in range(100)]),
        Payload("document", "64 KB text document", document()),
        Payload("ints", "10,000 ints", integers(seed=seed)),
        Payload("small", "small dict (2 keys)", {"id": 42, "name": "Ada"}),
    ]


def map_value(seed: int = SEED) -> dict[str, Any]:
    """The Map benchmark's value: a user record with a short biography, about 1 KB
    encoded (under the codec's 1 KiB compression threshold)."""
    rng = random.Random(seed)  # noqa: S311 - fixed data, not secrets
    record = user_record(rng, 1)
    record["bio"] = _document_text()[:640]
    return record
