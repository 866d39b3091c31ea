"""GeeRPC across hosts under real faults: a server killed (the XClient fails over, the
registry forgets it after its TTL, a broadcast reports it) and the registry restarted
(servers come back through their heartbeats, clients never lose the servers)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.cluster.cluster import HEARTBEAT, RPC_TTL, Cluster, report

CALL_TIMEOUT = 1.0
SETTLE = 10.0  # seconds the registry is given to reach a state: a bound, not a speed


def calls(cluster: Cluster, n: int) -> list[list[Any]]:
    answer = cluster.ask(
        "rpc",
        registry=cluster.registry,
        method="Node.Address",
        arg=0,
        calls=n,
        call_timeout=CALL_TIMEOUT,
    )
    results: list[list[Any]] = answer["results"]
    return results


def listed(cluster: Cluster) -> list[str]:
    servers: list[str] = cluster.ask("servers", registry=cluster.registry)["servers"]
    return sorted(servers)


def wait_listed(cluster: Cluster, expected: list[str]) -> float:
    started = time.monotonic()
    while time.monotonic() - started < SETTLE:
        if listed(cluster) == sorted(expected):
            return time.monotonic() - started
    pytest.fail(f"the registry lists {listed(cluster)}, not {expected}, after {SETTLE} s")


def test_kill_an_rpc_server(cluster: Cluster) -> None:
    h1, h2 = cluster.rpc["h1"], cluster.rpc["h2"]
    assert {reply for reply, _, _ in calls(cluster, 4)} == {h1, h2}  # round robin over both
    killed_at = time.monotonic()
    cluster.kill("rpc-h2")

    results = calls(cluster, 20)
    assert [error for _, error, _ in results] == [None] * 20  # every call failed over
    assert {reply for reply, _, _ in results} == {h1}
    worst = max(seconds for *_, seconds in results)
    assert worst < CALL_TIMEOUT

    assert listed(cluster) == sorted([h1, h2])  # within its TTL the registry still has it
    broadcast = cluster.ask(
        "broadcast",
        registry=cluster.registry,
        method="Node.Address",
        arg=0,
        call_timeout=CALL_TIMEOUT,
    )
    assert broadcast["reply"] is None and h2.split("@")[1] in broadcast["error"], broadcast

    wait_listed(cluster, [h1])
    gone = time.monotonic() - killed_at
    assert RPC_TTL - HEARTBEAT <= gone < RPC_TTL + SETTLE
    assert cluster.ask(
        "broadcast",
        registry=cluster.registry,
        method="Node.Address",
        arg=0,
        call_timeout=CALL_TIMEOUT,
    ) == {"reply": h1, "error": None}

    cluster.start_rpc("h2")
    back = wait_listed(cluster, [h1, h2])
    report(
        "kill -9 rpc server",
        calls_after_kill=20,
        failed=0,
        worst_call_s=round(worst, 4),
        broadcast_error=broadcast["error"],
        dropped_by_registry_after_s=round(gone, 3),
        relisted_after_restart_s=round(back, 3),
    )


def test_restart_the_registry(cluster: Cluster) -> None:
    both = sorted(cluster.rpc.values())
    assert {reply for reply, _, _ in calls(cluster, 4)} == set(both)
    cluster.kill("registry")
    during = calls(cluster, 10)  # discovery keeps the last list while the registry is away
    assert [error for _, error, _ in during] == [None] * 10
    assert {reply for reply, _, _ in during} == set(both)

    cluster.start_registry()
    after = calls(cluster, 10)  # a registry that knows nobody yet does not empty the list
    assert [error for _, error, _ in after] == [None] * 10
    back = wait_listed(cluster, both)
    assert back < HEARTBEAT + SETTLE
    assert {reply for reply, _, _ in calls(cluster, 4)} == set(both)
    report(
        "registry restart",
        calls_while_down=10,
        failed_while_down=0,
        calls_right_after_restart=10,
        failed_after_restart=0,
        both_relisted_after_s=round(back, 3),
    )
