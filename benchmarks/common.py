"""What every benchmark shares: ports, CPU pinning, waiting for a server, running
contenders in interleaved rounds so that machine drift cannot favour either side, and
counting instructions with callgrind (figures that do not move with the machine's load)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def free_port() -> int:
    """A loopback port free a moment ago, for servers in other processes that must be
    told their port (racy by nature; fine on a quiet benchmark machine)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def pin(cpu: int) -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > cpu:
        os.sched_setaffinity(0, {cpu})


def taskset(cpu: int, command: list[str]) -> list[str]:
    return ["taskset", "-c", str(cpu), *command] if shutil.which("taskset") else command


def wait_port(port: int, process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    """Wait until ``process`` accepts connections on ``port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode}") from None
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"server did not listen on {port} within {timeout} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def interleaved(
    contenders: Sequence[tuple[str, Callable[[], T]]], rounds: int
) -> dict[str, list[T]]:
    """Run each contender once per round, in turn (a, b, a, b, ...); every result."""
    results: dict[str, list[T]] = {name: [] for name, _ in contenders}
    for _ in range(rounds):
        for name, run in contenders:
            results[name].append(run())
    return results


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def instructions(checkout: Path, driver: Path, count: int) -> int:
    """Instructions callgrind counts for ``python driver count`` with ``checkout``'s
    geetrio (run from a folder without one of its own)."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    with tempfile.TemporaryDirectory() as folder:
        out = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={folder}/cg.out",
                sys.executable,
                str(driver),
                str(count),
            ],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
    found = re.search(r"Collected : (\d+)", out.stderr)
    assert found, out.stderr[-2000:]
    return int(found.group(1))


def per_call(checkout: Path, driver: Path, few: int, many: int) -> float:
    """Instructions per call of the driver's loop: the difference between ``many`` and
    ``few`` calls, over ``many - few`` (start-up cancels out)."""
    return (instructions(checkout, driver, many) - instructions(checkout, driver, few)) / (
        many - few
    )


def instructions_main(description: str, driver_source: str, few: int, many: int, what: str) -> None:
    """The command line of an instructions benchmark: ``[--against CHECKOUT]``; prints
    instructions per ``what`` here, and there with the ratio."""
    import argparse

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--against", type=Path, help="another checkout to compare with")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        print("bench_instructions: skipped — valgrind is not installed")
        return
    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as folder:
        driver = Path(folder) / "driver.py"
        driver.write_text(driver_source)
        ours = per_call(root, driver, few, many)
        print(f"instructions per {what}: {ours:,.0f}")
        if args.against is not None:
            theirs = per_call(args.against.resolve(), driver, few, many)
            print(
                f"  {args.against}: {theirs:,.0f}   this checkout / that one: {ours / theirs:.3f}"
            )
