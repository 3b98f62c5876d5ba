"""Fixtures of the data-structure tests (the backend fixtures come from tests/conftest.py)."""

from __future__ import annotations

from structure_helpers import encrypted

__all__ = ["encrypted"]
