"""The blocking facade's pieces; :mod:`hazelkit.blocking` is the public module."""
