"""Seeing a running cluster: ``hazelkit inspect``, the workflow commands, and the
read-only snapshot they share (:mod:`._report`)."""
