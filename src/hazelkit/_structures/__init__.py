"""Data structures: Map, MultiMap, Queue, Set, List, Atom, Counter and IdGenerator."""
