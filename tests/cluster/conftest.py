"""The cluster fixture: four hosts in network namespaces, torn down whatever happens."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster import netns
from tests.cluster.cluster import Cluster


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    try:
        netns.require()
    except netns.Unavailable as exc:
        pytest.fail(f"cannot build the test cluster: {exc}")
    netns.remove_stale()
    built = Cluster(tmp_path)
    try:
        yield built
    finally:
        built.close()
