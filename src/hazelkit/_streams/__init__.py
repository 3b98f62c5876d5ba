"""Streams: Topic and ReliableTopic (numbered publishing, in-order replay, loss
detection)."""
