"""The core every capability builds on: the Cluster, URLs, errors, handles, subscriptions
and events, compare-and-set updates, cleanup, and per-Cluster state."""
