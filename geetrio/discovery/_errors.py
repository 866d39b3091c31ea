"""Discovery's errors."""

from __future__ import annotations

import trio

from ..errors import GeetrioError

__all__ = ["DiscoveryError", "DiscoveryTimeout", "EtcdError", "EtcdTimeout"]


class DiscoveryError(GeetrioError):
    """A discovery service (etcd, the registry) unreachable, or its answer unusable."""


class EtcdError(DiscoveryError):
    """etcd unreachable, or it answered with an error."""


class DiscoveryTimeout(DiscoveryError, trio.TooSlowError):
    """A discovery service gave no answer in time."""


class EtcdTimeout(EtcdError, DiscoveryTimeout):
    """etcd gave no answer within the call's 5 s."""
