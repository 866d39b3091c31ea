"""Day 4 — timeouts are cancel scopes: a call timeout, the caller's own scope, and
the server cancelling a handler past the client's HandleTimeout.

python examples/rpc/day4_timeout.py
"""

import trio

from geetrio import rpc


class Slow:
    def __init__(self) -> None:
        self.cancelled = 0

    async def Sleep(self, seconds: float) -> str:
        try:
            await trio.sleep(seconds)
        except trio.Cancelled:
            self.cancelled += 1
            raise
        return f"slept {seconds}s"


async def main() -> None:
    slow = Slow()
    server = rpc.Server()
    server.register(slow)
    async with trio.open_nursery() as nursery:
        port = await nursery.start(server.serve, "127.0.0.1", 0)
        address = f"127.0.0.1:{port}"
        async with rpc.dial("tcp", address) as client:
            print(await client.call("Slow.Sleep", 0.01))
            try:
                await client.call("Slow.Sleep", 1.0, timeout=0.1)
            except rpc.RPCTimeout as exc:
                print("call timeout:", exc)
            with trio.move_on_after(0.1) as scope:
                await client.call("Slow.Sleep", 1.0)
            print("the caller's own scope cancelled the call:", scope.cancelled_caught)
        async with rpc.dial("tcp", address, option=rpc.Option(handle_timeout=0.1)) as client:
            try:
                await client.call("Slow.Sleep", 1.0)
            except rpc.RemoteError as exc:
                print("server:", exc.message)
        print("handlers the server cancelled:", slow.cancelled)
        nursery.cancel_scope.cancel()


if __name__ == "__main__":
    trio.run(main)
