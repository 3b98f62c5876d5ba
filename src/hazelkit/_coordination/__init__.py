"""Coordination: Lock, Semaphore and CountDownLatch, on leases with fencing tokens."""
