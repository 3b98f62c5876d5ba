"""Caching: Cache with TTLs and a size bound, near caches, single flight, memoize."""
