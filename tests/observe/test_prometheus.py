"""The Prometheus endpoint, scraped on loopback."""

from __future__ import annotations

import httpx
import pytest

import hazelkit
from hazelkit import observe

pytestmark = pytest.mark.timeout(60)


async def test_the_endpoint_serves_hazelkit_metrics_in_prometheus_text(url: str, name: str) -> None:
    with observe.serve_prometheus(port=0) as endpoint:
        assert endpoint.url == f"http://127.0.0.1:{endpoint.port}/metrics"
        assert observe.recording()
        async with hazelkit.connect(url) as cluster:
            await cluster.map(name).put("a", 1)
            async with cluster.lock(name):
                pass
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.get(endpoint.url)
    assert response.status_code == 200
    text = response.text
    assert "# TYPE hazelkit_operation_duration_seconds histogram" in text
    put = 'hazelkit_operation="put",hazelkit_structure_kind="map"'
    assert f"hazelkit_operation_duration_seconds_count{{{put}}} 1.0" in text
    assert f'hazelkit_operation_duration_seconds_bucket{{{put},le="+Inf"}} 1.0' in text
    assert "hazelkit_lock_hold_duration_seconds_count 1.0" in text
    assert not observe.recording()  # closed: back to the global provider, no SDK


async def test_a_closed_endpoint_stops_listening() -> None:
    endpoint = observe.serve_prometheus(port=0)
    endpoint.close()
    endpoint.close()  # idempotent
    async with httpx.AsyncClient(timeout=5) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(endpoint.url)
