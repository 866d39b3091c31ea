"""Discovery's errors."""

from __future__ import annotations

from ..errors import GeetrioError

__all__ = ["DiscoveryError", "EtcdError"]


class DiscoveryError(GeetrioError):
    """A discovery service (etcd, the registry) unreachable, or its answer unusable."""


class EtcdError(DiscoveryError):
    """etcd unreachable, or it answered with an error."""
