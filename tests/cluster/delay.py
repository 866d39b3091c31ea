"""Hold back every packet queued to NFQUEUE 0 by ``SECONDS``: a real network delay
where the kernel has no ``sch_netem`` (``tc qdisc ... netem delay`` fails here).

    ip netns exec NS python delay.py 2.0     # prints "bound", then serves the queue
    ip netns exec NS iptables-legacy -A OUTPUT -o eth0 -j NFQUEUE --queue-num 0

It speaks nfnetlink_queue itself (Linux's ``include/uapi/linux/netfilter/nfnetlink_queue.h``):
bind queue 0, copy only packet metadata, and for each packet send the verdict ACCEPT
``SECONDS`` after it was queued — packets leave in order, each late by the same amount.
Stop it with SIGTERM; packets still held are then dropped by the kernel with the queue.
"""

from __future__ import annotations

import socket
import struct
import sys
from collections import deque

import trio

NETLINK_NETFILTER = 12
NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET, NFQNL_MSG_VERDICT, NFQNL_MSG_CONFIG = 0, 1, 2
NFQA_PACKET_HDR, NFQA_VERDICT_HDR = 1, 2
NFQA_CFG_CMD, NFQA_CFG_PARAMS = 1, 2
NFQNL_CFG_CMD_BIND = 1
NFQNL_COPY_META = 1
NF_ACCEPT = 1
NLM_F_REQUEST = 1
NLMSG_ERROR = 2
QUEUE = 0


def _attribute(kind: int, data: bytes) -> bytes:
    length = 4 + len(data)
    return struct.pack("=HH", length, kind) + data + b"\0" * (-length % 4)


def message(kind: int, *attributes: bytes) -> bytes:
    body = struct.pack("=BBH", socket.AF_UNSPEC, 0, socket.htons(QUEUE)) + b"".join(attributes)
    header = struct.pack(
        "=IHHII", 16 + len(body), (NFNL_SUBSYS_QUEUE << 8) | kind, NLM_F_REQUEST, 0, 0
    )
    return header + body


def packet_ids(data: bytes) -> list[int]:
    """The ids of the packets in one netlink read; raises on an error message."""
    ids, offset = [], 0
    while offset + 16 <= len(data):
        length, kind = struct.unpack_from("=IH", data, offset)
        if length < 16:
            break
        if kind == NLMSG_ERROR and struct.unpack_from("=i", data, offset + 16)[0]:
            raise OSError(-struct.unpack_from("=i", data, offset + 16)[0], "nfqueue error")
        if kind == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
            at = offset + 20  # netlink header + nfgenmsg
            while at + 4 <= offset + length:
                size, attr = struct.unpack_from("=HH", data, at)
                if size < 4:
                    break
                if attr & 0x7FFF == NFQA_PACKET_HDR:
                    ids.append(struct.unpack_from("!I", data, at + 4)[0])
                at += (size + 3) & ~3
        offset += (length + 3) & ~3
    return ids


async def main(seconds: float) -> None:
    sock = trio.socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    await sock.bind((0, 0))
    await sock.send(
        message(
            NFQNL_MSG_CONFIG,
            _attribute(NFQA_CFG_CMD, struct.pack("!BBH", NFQNL_CFG_CMD_BIND, 0, 0)),
        )
    )
    await sock.send(
        message(
            NFQNL_MSG_CONFIG, _attribute(NFQA_CFG_PARAMS, struct.pack("!IB", 0, NFQNL_COPY_META))
        )
    )
    held: deque[tuple[float, int]] = deque()
    arrived = trio.Event()
    sys.stdout.write("bound\n")
    sys.stdout.flush()

    async def release() -> None:
        nonlocal arrived
        while True:
            if not held:
                await arrived.wait()
                arrived = trio.Event()
                continue
            due, packet = held[0]
            await trio.sleep_until(due)
            held.popleft()
            verdict = struct.pack("!II", NF_ACCEPT, packet)
            await sock.send(message(NFQNL_MSG_VERDICT, _attribute(NFQA_VERDICT_HDR, verdict)))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(release)
        while True:
            data = await sock.recv(1 << 16)
            for packet in packet_ids(data):
                held.append((trio.current_time() + seconds, packet))
            arrived.set()


if __name__ == "__main__":
    trio.run(main, float(sys.argv[1]))
