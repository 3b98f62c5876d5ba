"""Agents: Clojure's agents, cluster-wide, as entities of the runtime."""
