"""Test seams that users and hazelkit's own suite share: a manual clock, fault injection."""
