"""The harness itself: hosts reach each other only inside their namespaces, faults
apply and heal, and everything is gone after ``close()`` — also what a run that could
not clean up left behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cluster import netns

# The kernel completes handshakes into the backlog: listening is enough to connect.
LISTEN = "import signal, socket; s = socket.create_server(('10.77.0.2', 8000)); print('listening', flush=True); signal.pause()"
PROBE = "import socket, sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3])); print('connected')"


def namespaces() -> set[str]:
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True)
    return {line.split()[0] for line in listed.stdout.splitlines() if line.strip()}


def connects(
    net: netns.Network, source: str, address: str, port: int, timeout: float = 1.0
) -> bool:
    argv = [sys.executable, "-c", PROBE, address, str(port), str(timeout)]
    probe = net.start(source, argv, name="probe")
    assert probe.stdout is not None
    out = probe.stdout.read()
    probe.wait(10)
    return out.strip() == "connected"


@pytest.fixture
def net(tmp_path: Path):  # type: ignore[no-untyped-def]
    try:
        netns.require()
    except netns.Unavailable as exc:
        pytest.fail(f"cannot build the test network: {exc}")
    network = netns.Network(2, logs=tmp_path)
    yield network
    network.close()


def test_hosts_reach_each_other_and_faults_cut_them_off(net: netns.Network) -> None:
    server = net.start("h2", [sys.executable, "-c", LISTEN], name="server")
    assert server.stdout is not None and server.stdout.readline() == "listening\n"
    assert connects(net, "h1", "10.77.0.2", 8000, timeout=5.0)
    assert not connects(net, "h1", "127.0.0.1", 8000)  # h1's loopback is its own
    net.drop("h2")
    assert not connects(net, "h1", "10.77.0.2", 8000, timeout=0.5)
    net.heal("h2")
    assert connects(net, "h1", "10.77.0.2", 8000, timeout=5.0)
    net.link_down("h2")
    assert not connects(net, "h1", "10.77.0.2", 8000, timeout=0.5)
    net.link_up("h2")
    assert connects(net, "h1", "10.77.0.2", 8000, timeout=5.0)
    net.delay("h2", 1.0)  # the SYN-ACK leaves a second late: a 0.5 s connect fails
    assert not connects(net, "h1", "10.77.0.2", 8000, timeout=0.5)
    assert connects(net, "h1", "10.77.0.2", 8000, timeout=5.0)
    net.heal("h2")
    assert server.poll() is None


def test_close_removes_namespaces_and_processes(tmp_path: Path) -> None:
    netns.require()
    network = netns.Network(2, logs=tmp_path)
    made = {network.ns(h) for h in ("h1", "h2", "switch")}
    assert made <= namespaces()
    sleeper = network.start(
        "h1", [sys.executable, "-c", "import signal; signal.pause()"], name="sleeper"
    )
    network.close()
    assert sleeper.poll() is not None  # killed, by its PID
    assert not made & namespaces()


def test_namespaces_of_a_dead_run_are_removed() -> None:
    netns.require()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = f"{netns.PREFIX}{dead.pid}-h1"
    mine = f"{netns.PREFIX}{os.getpid()}-keep"
    for name in (stale, mine):
        subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        netns.remove_stale()
        assert stale not in namespaces() and mine in namespaces()  # ours is alive: kept
    finally:
        for name in (stale, mine):
            subprocess.run(["ip", "netns", "delete", name], capture_output=True)
