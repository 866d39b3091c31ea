"""Hosts for the cluster tests: Linux network namespaces joined by a bridge.

``Network(4)`` makes ``h1``..``h4`` (10.77.0.1..4/24, each with its own loopback) and a
``switch`` namespace holding the bridge; every veth has one end in a host and one in
the switch, so nothing is added to the machine's own namespace and the addresses exist
only inside these namespaces. ``network.start(host, argv)`` runs a process in a host
(``ip netns exec`` execs it: the PID is the program's own); ``close()`` kills what was
started, by PID, and deletes the namespaces, which takes their links with them.

Faults, inside the host's namespace: ``link_down``/``link_up`` (its interface),
``drop`` (iptables: every packet in and out dropped, 100% loss), ``delay(seconds)``
(every packet it sends held back, by ``delay.py`` on an NFQUEUE: this kernel has no
``sch_netem``), and ``heal()`` to undo the last two.

Processes are started with ``PR_SET_PDEATHSIG`` (they die with the test process even
if it is killed) and the namespaces are named after the test process's PID, so a later
run deletes those of a run that could not clean up (``remove_stale``).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from tests.helpers import Unavailable

HERE = Path(__file__).resolve().parent
PREFIX = "gtc"
SUBNET = "10.77.0"
IPTABLES = "iptables-legacy"  # the nft backend lacks the NFQUEUE expression on this kernel
_PR_SET_PDEATHSIG = 1


def require() -> None:
    """Raise ``Unavailable`` saying what is missing; the tests fail with it."""
    missing = [tool for tool in ("ip", IPTABLES) if shutil.which(tool) is None]
    if missing:
        raise Unavailable(
            f"the cluster tests need {', '.join(missing)} (Debian: iproute2, iptables); "
            "`make test` installs them"
        )
    if os.geteuid() != 0:
        raise Unavailable("the cluster tests create network namespaces: they must run as root")
    probe = f"{PREFIX}{os.getpid()}-probe"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        raise Unavailable(f"`ip netns add` failed: {made.stderr.strip()}")
    _ip("netns", "delete", probe)


def remove_stale() -> None:
    """Delete the namespaces of earlier runs whose test process is gone."""
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    for line in listed.splitlines():
        name = line.split()[0] if line.split() else ""
        pid = name[len(PREFIX) :].split("-")[0]
        if name.startswith(PREFIX) and pid.isdigit() and not _alive(int(pid)):
            subprocess.run(["ip", "netns", "delete", name], capture_output=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


def _die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class Network:
    def __init__(self, hosts: int, logs: Path) -> None:
        self.hosts = [f"h{i}" for i in range(1, hosts + 1)]
        self.logs = logs
        self._tag = f"{PREFIX}{os.getpid()}"
        self.processes: list[subprocess.Popen[str]] = []
        self._delayers: dict[str, subprocess.Popen[str]] = {}
        self._made: list[str] = []
        try:
            self._build()
        except BaseException:
            self.close()
            raise

    def ns(self, host: str) -> str:
        return f"{self._tag}-{host}"

    def address(self, host: str) -> str:
        return f"{SUBNET}.{self.hosts.index(host) + 1}"

    def _build(self) -> None:
        switch = self.ns("switch")
        for name in [switch, *map(self.ns, self.hosts)]:
            _ip("netns", "add", name)
            self._made.append(name)
            _ip("-n", name, "link", "set", "lo", "up")
        _ip("-n", switch, "link", "add", "br0", "type", "bridge")
        _ip("-n", switch, "link", "set", "br0", "up")
        for host in self.hosts:
            ns = self.ns(host)
            _ip("link", "add", "eth0", "netns", ns, "type", "veth", "peer", host, "netns", switch)
            _ip("-n", switch, "link", "set", host, "master", "br0", "up")
            _ip("-n", ns, "addr", "add", f"{self.address(host)}/24", "dev", "eth0")
            _ip("-n", ns, "link", "set", "eth0", "up")

    # ------------------------------------------------------------------ processes

    def start(
        self, host: str, argv: Sequence[str], *, name: str, stdin: bool = False
    ) -> subprocess.Popen[str]:
        """Run ``argv`` in ``host``; its stderr goes to ``logs/NAME.log`` (appended: a
        restarted program keeps one log). stdout is a pipe; stdin one if asked."""
        log: IO[str] = open(self.logs / f"{name}.log", "a")  # noqa: SIM115 - the child owns it
        try:
            process = subprocess.Popen(
                ["ip", "netns", "exec", self.ns(host), *argv],
                stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                preexec_fn=_die_with_parent,
            )
        finally:
            log.close()
        self.processes.append(process)
        return process

    def python(
        self, host: str, script: str | Path, *args: str, name: str, stdin: bool = False
    ) -> subprocess.Popen[str]:
        return self.start(host, [sys.executable, str(script), *args], name=name, stdin=stdin)

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text()

    # ------------------------------------------------------------------ faults

    def link_down(self, host: str) -> None:
        _ip("-n", self.ns(host), "link", "set", "eth0", "down")

    def link_up(self, host: str) -> None:
        _ip("-n", self.ns(host), "link", "set", "eth0", "up")

    def _iptables(self, host: str, *rule: str) -> None:
        subprocess.run(
            ["ip", "netns", "exec", self.ns(host), IPTABLES, "-w", *rule],
            check=True,
            capture_output=True,
            text=True,
        )

    def drop(self, host: str) -> None:
        """100% loss on the host's link, both ways."""
        self._iptables(host, "-A", "INPUT", "-i", "eth0", "-j", "DROP")
        self._iptables(host, "-A", "OUTPUT", "-o", "eth0", "-j", "DROP")

    def delay(self, host: str, seconds: float) -> None:
        """Every packet the host sends leaves ``seconds`` late."""
        delayer = self.python(
            host, HERE / "delay.py", str(seconds), name=f"delay-{host}", stdin=False
        )
        line = delayer.stdout.readline() if delayer.stdout else ""
        if line.strip() != "bound":
            raise RuntimeError(f"delay.py did not start: {line!r}, {self.log(f'delay-{host}')}")
        self._delayers[host] = delayer
        self._iptables(host, "-A", "OUTPUT", "-o", "eth0", "-j", "NFQUEUE", "--queue-num", "0")

    def heal(self, host: str) -> None:
        """Undo ``drop`` and ``delay``: rules flushed, the delayer stopped."""
        self._iptables(host, "-F", "INPUT")
        self._iptables(host, "-F", "OUTPUT")
        delayer = self._delayers.pop(host, None)
        if delayer is not None:
            stop(delayer)

    # ------------------------------------------------------------------ teardown

    def close(self) -> None:
        for process in self.processes:
            stop(process, grace=0)
        for name in reversed(self._made):
            subprocess.run(["ip", "netns", "delete", name], capture_output=True)
        self._made.clear()


def stop(process: subprocess.Popen[str], *, grace: float = 5.0) -> int:
    """SIGTERM (or SIGKILL at once with ``grace=0``), SIGKILL after ``grace`` seconds;
    the exit code. By PID: only processes these tests started."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM if grace else signal.SIGKILL)
        try:
            process.wait(grace or 5.0)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5.0)
    for pipe in (process.stdin, process.stdout):
        if pipe is not None:
            with contextlib.suppress(OSError):
                pipe.close()
    return process.returncode
