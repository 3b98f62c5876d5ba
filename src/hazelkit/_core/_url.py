"""Cluster URLs and connection options.

    memory://NAME                                     the embedded grid NAME ("default")
    hazelcast://HOST[:PORT][,HOST[:PORT]...][?QUERY]  a Hazelcast cluster (port 5701)
    hazelcast://USER:PASSWORD@HOST:PORT?cluster=NAME  ... with username/password credentials

Query parameters of ``hazelcast://`` URLs: ``cluster`` (the cluster name, default "dev"),
``connect_timeout`` and ``operation_timeout`` (seconds), ``tls`` (``true``/``false``),
``smart_routing`` (``true``/``false``). Keyword options given to :func:`hazelkit.connect`
override the URL.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, parse_qsl, unquote, urlsplit

from hazelkit._core._clock import SYSTEM_CLOCK, Clock
from hazelkit._core._exceptions import ConfigurationError

DEFAULT_URL = "memory://default"
URL_ENVIRONMENT_VARIABLE = "HAZELKIT_URL"
DEFAULT_PORT = 5701
SCHEMES = ("memory", "hazelcast")


@dataclass(frozen=True)
class TLSOptions:
    """TLS settings for ``hazelcast://`` connections (passed to the Hazelcast client)."""

    cafile: str | None = None
    certfile: str | None = None
    keyfile: str | None = None
    password: str | None = field(default=None, repr=False)
    check_hostname: bool = True


@dataclass(frozen=True)
class ClusterOptions:
    """Everything needed to open a backend, parsed from a URL and keyword options."""

    scheme: str
    grid_name: str = "default"
    addresses: tuple[str, ...] = ()
    cluster_name: str = "dev"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: TLSOptions | None = None
    smart_routing: bool = True
    #: Seconds to wait for the first connection before ClusterUnavailableError.
    connect_timeout: float = 5.0
    #: Seconds a Cluster keeps trying to reconnect after it lost the cluster, before it
    #: closes itself (None: forever, with backoff).
    reconnect: float | None = None
    #: Seconds a single cluster operation may take before OperationTimeoutError.
    operation_timeout: float = 60.0
    #: Extra hazelcast-python-client configuration, passed through unchanged.
    client_options: Mapping[str, Any] = field(default_factory=dict)
    #: Where hazelkit reads the time (see :mod:`hazelkit._core._clock`).
    clock: Clock = field(default=SYSTEM_CLOCK, repr=False, compare=False)

    @property
    def url(self) -> str:
        """The URL without credentials, for logs and error messages."""
        if self.scheme == "memory":
            return f"memory://{self.grid_name}"
        return f"hazelcast://{','.join(self.addresses)}?cluster={self.cluster_name}"


_OPTION_FIELDS = {f.name for f in dataclasses.fields(ClusterOptions)} - {"scheme", "addresses"}


def parse_url(url: str | None = None, **options: Any) -> ClusterOptions:
    """Parse a cluster URL (or ``$HAZELKIT_URL``, or ``memory://default``) and options.

    Raises ConfigurationError naming the offending part of a malformed URL or option.
    """
    if url is None:
        url = os.environ.get(URL_ENVIRONMENT_VARIABLE) or DEFAULT_URL
    if not isinstance(url, str):
        raise ConfigurationError(f"cluster URL must be a string, not {type(url).__name__}")
    unknown = set(options) - _OPTION_FIELDS
    if unknown:
        raise ConfigurationError(
            f"unknown connect option(s) {', '.join(sorted(unknown))}; "
            f"known: {', '.join(sorted(_OPTION_FIELDS))}"
        )
    scheme, sep, _ = url.partition("://")
    scheme = scheme.lower()
    if not sep:
        raise ConfigurationError(
            f"{_redact(url)!r} is not a cluster URL: expected memory://NAME or "
            "hazelcast://HOST:PORT[,HOST:PORT]?cluster=NAME"
        )
    try:
        parts = urlsplit(url)
    except ValueError as error:
        raise ConfigurationError(f"malformed cluster URL {_redact(url)!r}: {error}") from None
    if scheme == "memory":
        parsed = _parse_memory(parts, url)
    elif scheme == "hazelcast":
        parsed = _parse_hazelcast(parts, url)
    else:
        raise ConfigurationError(
            f"unknown cluster URL scheme {scheme!r} in {_redact(url)!r}; "
            f"use one of: {', '.join(s + '://' for s in SCHEMES)}"
        )
    result = dataclasses.replace(parsed, **options)
    _check_options(result)
    return result


def _parse_memory(parts: SplitResult, url: str) -> ClusterOptions:
    if parts.query or parts.fragment or parts.path not in ("", "/") or "@" in parts.netloc:
        raise ConfigurationError(
            f"memory URL {_redact(url)!r} takes only a grid name: memory://NAME"
        )
    return ClusterOptions(scheme="memory", grid_name=parts.netloc or "default")


def _parse_hazelcast(parts: SplitResult, url: str) -> ClusterOptions:
    netloc = parts.netloc
    username = password = None
    if "@" in netloc:
        userinfo, netloc = netloc.rsplit("@", 1)
        user, _, secret = userinfo.partition(":")
        username, password = unquote(user), unquote(secret) or None
    if parts.path not in ("", "/") or parts.fragment:
        raise ConfigurationError(f"unexpected path in Hazelcast URL {_redact(url)!r}")
    if not netloc:
        raise ConfigurationError(f"Hazelcast URL {_redact(url)!r} names no member address")
    addresses = tuple(_parse_address(a, url) for a in netloc.split(","))
    options: dict[str, Any] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True, strict_parsing=False):
        options.update(_query_option(key, value, url))
    return ClusterOptions(
        scheme="hazelcast", addresses=addresses, username=username, password=password, **options
    )


def _parse_address(address: str, url: str) -> str:
    host, port_text = address, ""
    if address.startswith("["):
        host, _, rest = address[1:].partition("]")
        if rest and not rest.startswith(":"):
            raise ConfigurationError(f"bad address {address!r} in {_redact(url)!r}")
        port_text = rest[1:]
    elif address.count(":") == 1:
        host, port_text = address.split(":")
    elif address.count(":") > 1:
        raise ConfigurationError(
            f"IPv6 address {address!r} in {_redact(url)!r} must be in brackets: [::1]:5701"
        )
    if not host or any(c in host for c in " /?#"):
        raise ConfigurationError(f"bad host {host!r} in {_redact(url)!r}")
    port = DEFAULT_PORT
    if port_text:
        if not (port_text.isascii() and port_text.isdigit()) or not 0 < int(port_text) < 65536:
            raise ConfigurationError(f"bad port {port_text!r} in {_redact(url)!r}")
        port = int(port_text)
    try:
        if ipaddress.ip_address(host).version == 6:
            return f"[{host}]:{port}"
    except ValueError:
        pass
    return f"{host}:{port}"


def _query_option(key: str, value: str, url: str) -> dict[str, Any]:
    if key == "cluster":
        if not value:
            raise ConfigurationError(f"empty cluster name in {_redact(url)!r}")
        return {"cluster_name": value}
    if key in ("connect_timeout", "operation_timeout", "reconnect"):
        try:
            return {key: float(value)}
        except ValueError:
            raise ConfigurationError(
                f"{key}={value!r} in {_redact(url)!r} is not a number"
            ) from None
    if key in ("tls", "smart_routing"):
        flag = value.lower()
        if flag not in ("true", "false", "1", "0", "yes", "no"):
            raise ConfigurationError(f"{key}={value!r} in {_redact(url)!r} is not true or false")
        enabled = flag in ("true", "1", "yes")
        if key == "tls":
            return {"tls": TLSOptions() if enabled else None}
        return {"smart_routing": enabled}
    raise ConfigurationError(
        f"unknown query parameter {key!r} in {_redact(url)!r}; known: cluster, "
        "connect_timeout, operation_timeout, reconnect, tls, smart_routing"
    )


def _check_options(options: ClusterOptions) -> None:
    """Reject option values of the wrong type or range (a timeout must be finite: every
    wait in hazelkit ends)."""
    for name in ("connect_timeout", "operation_timeout"):
        value = getattr(options, name)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not 0 < value < math.inf
        ):
            raise ConfigurationError(
                f"{name} must be a positive, finite number of seconds, not {value!r}"
            )
    reconnect = options.reconnect
    if reconnect is not None and (
        isinstance(reconnect, bool)
        or not isinstance(reconnect, int | float)
        or not 0 < reconnect < math.inf
    ):
        raise ConfigurationError(
            f"reconnect must be None (forever) or a positive number of seconds, not {reconnect!r}"
        )
    if options.tls is not None and not isinstance(options.tls, TLSOptions):
        raise ConfigurationError(f"tls must be a hazelkit.TLSOptions, not {options.tls!r}")
    for name in ("smart_routing",):
        if not isinstance(getattr(options, name), bool):
            raise ConfigurationError(f"{name} must be True or False")
    if not isinstance(options.clock, Clock):
        raise ConfigurationError(
            f"clock must have time() and monotonic() (a hazelkit.testing.ManualClock, say),"
            f" not {options.clock!r}"
        )
    for name in ("cluster_name", "grid_name"):
        if not isinstance(getattr(options, name), str) or not getattr(options, name):
            raise ConfigurationError(f"{name} must be a non-empty string")


def _redact(url: str) -> str:
    """The URL with any password replaced, safe for messages."""
    scheme, sep, rest = url.partition("://")
    if "@" not in rest:
        return url
    userinfo, _, tail = rest.rpartition("@")
    user = userinfo.partition(":")[0]
    return f"{scheme}{sep}{user}:***@{tail}"
