"""Writes ``payloads/document.md``, the 64 KB text of the codec benchmark's document.

Run once (``python -m hazelkit.bench._make_document``); the file is committed so that
every run and every version measures the same bytes. The text is English-like prose
drawn from a fixed vocabulary with Zipf-like word frequencies and a fixed seed, so that
it compresses about as well as real prose does.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

__all__ = ["DOCUMENT_PATH", "SEED", "TARGET_SIZE", "make_document"]

DOCUMENT_PATH = Path(__file__).parent / "payloads" / "document.md"
TARGET_SIZE = 64 * 1024
SEED = 5_2026

_WORDS = """
the of and to a in is that for it as was with be by on not he this are or his from at
which but have an they you were her she there been one all we their has would when if so
no will more can who out what said up its about into them than some could time these two
may then do first any my now such like our over man me even most made after also did
many before must through back years where much your way well down should because each
just those people how too little state good very make world still own see men work long
get here between both life being under never day same another know while last might us
great old year off come since against go came right used take three cluster member node
data map queue lock value key service request client server message stream system
network partition backup replica lease owner event record state machine worker session
cache table index query result error failure timeout retry signal order account payment
invoice customer product price market report balance ledger entry journal page section
chapter letter river mountain forest garden window morning evening winter summer quiet
bright careful quick slow gentle strong simple honest early late open closed
"""
_VOCABULARY = _WORDS.split()


def _zipf_weights(count: int) -> list[float]:
    return [1.0 / (rank + 1) for rank in range(count)]


def _sentence(rng: random.Random, weights: list[float]) -> str:
    words = rng.choices(_VOCABULARY, weights, k=rng.randint(6, 24))
    if len(words) > 10 and rng.random() < 0.5:
        words[rng.randint(3, len(words) - 4)] += ","
    return " ".join(words).capitalize() + rng.choice(".......?!;")


def _paragraph(rng: random.Random, weights: list[float]) -> str:
    return " ".join(_sentence(rng, weights) for _ in range(rng.randint(3, 8)))


def _heading(rng: random.Random) -> str:
    return " ".join(word.capitalize() for word in rng.sample(_VOCABULARY[60:], rng.randint(2, 5)))


def make_document(seed: int = SEED, size: int = TARGET_SIZE) -> str:
    """Markdown prose of at least ``size`` UTF-8 bytes: sections (``## heading``) of
    paragraphs separated by blank lines. The same seed gives the same text."""
    rng = random.Random(seed)  # noqa: S311 - reproducible prose, not secrets
    weights = _zipf_weights(len(_VOCABULARY))
    parts: list[str] = []
    total = 0
    while total < size:
        block = f"## {_heading(rng)}" if rng.random() < 0.15 else _paragraph(rng, weights)
        parts.append(block)
        total += len(block.encode()) + 2
    return "\n\n".join(parts) + "\n"


def main() -> int:
    """Write the document; exit status 0."""
    DOCUMENT_PATH.write_text(make_document(), encoding="utf-8")
    sys.stdout.write(f"wrote {DOCUMENT_PATH} ({DOCUMENT_PATH.stat().st_size} bytes)\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
