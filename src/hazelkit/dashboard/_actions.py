"""The dashboard's only writes: resume, skip and terminate a workflow, behind a token.

Refused (403) unless the dashboard was started with actions allowed and the request
carries ``Authorization: Bearer <token>``. The token is compared as a SHA-256 digest with
``hmac.compare_digest``: constant time, whatever the lengths. A bearer header (not a
cookie) also means another site's page cannot make a browser send it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hazelkit.dashboard._http import bounded, error

if TYPE_CHECKING:
    from hazelkit._core._cluster import Cluster

__all__ = ["ACTIONS", "Actions"]

ACTIONS = ("resume", "skip", "terminate")
MAX_BODY = 16 * 1024


class Actions:
    """The action endpoint of one dashboard (``token`` None: actions disabled)."""

    def __init__(self, token: str | None, timeout: float) -> None:
        self._digest = None if token is None else _digest(token)
        self._timeout = timeout

    async def perform(self, request: Request, cluster: Cluster) -> Response:
        """Send ``request``'s action to its workflow (202 once stored in its inbox);
        403, 404, 400 or 413 for what is wrong with the request."""
        refusal = self._refusal(request)
        if refusal is not None:
            return refusal
        action, workflow_id = request.path_params["action"], request.path_params["id"]
        if action not in ACTIONS:
            return error(404, f"no action {action!r}; choose from {', '.join(ACTIONS)}")
        body = await request.body()
        if len(body) > MAX_BODY:
            return error(413, "request body too large")
        try:
            reason = str(json.loads(body).get("reason", "")) if body else ""
        except (ValueError, AttributeError):
            return error(400, 'the body must be JSON: {"reason": "..."}')
        return await bounded(
            self._timeout, lambda: self._send(cluster, workflow_id, action, reason)
        )

    def _refusal(self, request: Request) -> Response | None:
        if self._digest is None:
            return error(403, "actions are disabled (start the dashboard with --allow-actions)")
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        valid = hmac.compare_digest(_digest(given.strip()), self._digest)
        if scheme.lower() != "bearer" or not valid:
            return error(403, "a valid token is needed (Authorization: Bearer TOKEN)")
        return None

    async def _send(self, cluster: Cluster, workflow_id: str, action: str, reason: str) -> Response:
        workflows, timeout = cluster.workflows, self._timeout
        if action == "resume":
            await workflows.resume(workflow_id, timeout=timeout)
        elif action == "skip":
            await workflows.skip(
                workflow_id, reason or "skipped from the dashboard", timeout=timeout
            )
        else:
            reason = reason or "terminated from the dashboard"
            await workflows.terminate(workflow_id, reason, timeout=timeout)
        return JSONResponse({"sent": action, "workflow": workflow_id}, status_code=202)


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()
