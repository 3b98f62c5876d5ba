"""The entity runtime: durable entities, each applied by one node at a time.

Workflows (and, next, agents and cluster singletons) are *entities*: an id, a durable
record in a cluster map, messages in a reliable inbox, and at most one node applying
them. The runtime is written only against the backend protocol and the core, so it runs
on the embedded grid (several Clusters in one process are several nodes) and on
Hazelcast alike. The decisions, where DESIGN.md section 4 left room:

- **Spaces.** Entities live in *spaces*, one per entity type (``workflow:shop.order``).
  A space has a fixed number of partitions (default 16), recorded in the cluster the
  first time a node hosts it; a node configured otherwise refuses to start. An entity's
  partition is a stable hash of its id (BLAKE2b, never Python's salted ``hash``).
- **Nodes and assignment.** A hosting Cluster registers in ``hazelkit.rt.nodes`` (an
  entry with a TTL, renewed as a heartbeat) with the spaces it hosts and the version of
  each definition. A partition's preferred owner is the rendezvous-hash winner among the
  live nodes hosting its space *at the highest version* any of them has: during a rolling
  upgrade the work moves to upgraded nodes, and a node never loads a state newer than
  its definition (the entity waits, and its snapshot says so).
- **Leases and fencing.** A node applies a partition's messages only while it holds the
  partition's lease (``hazelkit.rt.partitions``): a record with owner, epoch and version.
  The owner renews it by compare-and-set (version + 1) every quarter lease. Another node
  takes it only after seeing the *same* version for a whole lease on its own monotonic
  clock (no wall clocks compared), or at once when the owner released it; each take
  increments the epoch. An owner stops applying the moment its own clock says its lease
  may have lapsed, so a process paused past its lease (SIGSTOP) resumes without
  committing; and every entity commit is a compare-and-set against the record it read,
  which carries the epoch of the last commit, so a stale owner's commit fails and it
  stops. Graceful leave (or a better node joining): the owner finishes the message in
  hand, commits, and releases; the successor takes over at once.
- **Inboxes and sequence ids.** Each partition has a ringbuffer inbox. A message is
  ``[entity id, key, kind, payload]`` (msgpack around the codec's bytes of the value, so
  the header is readable even when the value is not). The owner reads in order,
  dispatches to per-entity serial mailboxes (entities run in parallel), and each entity
  commits its new state together with the inbox sequence it applied, in one write (one
  write for up to 32 messages when more wait in its mailbox: group commit, see
  ``_entity``). The
  partition's committed cursor (``hazelkit.rt.cursors``) moves past messages once all
  before them are committed; a new owner replays from it and entities skip what they
  applied: every message changes state once. Senders never overwrite an unapplied
  message: a send checks the room left above the committed cursor and waits (or fails
  with CapacityError) when the inbox is full; an overwrite that happened anyway (or an
  inbox lost with every member that held it) is detected and logged as loss.
- **Idempotent sends.** Every message carries a key (the caller's, or a fresh one);
  an entity remembers the keys of its last messages (a bounded window in its record) and
  applies a key once. A send whose reply was lost is retried by hazelkit with the same
  key, so it too is applied once.
- **Timers** live in the entity's record and in a per-partition index the owner loads on
  takeover; one that fell due while nobody owned the entity fires once, late.
- **Outbox.** What a handler sends or publishes is stored in the same commit as the new
  state and delivered after it, with keys derived from (entity, sequence, index): a
  delivery repeated by a new owner after a crash is recognised and applied once.
- **Passivation.** A node keeps an entity in memory only while it has work; the record
  is the truth.
"""
