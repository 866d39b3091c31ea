"""``Bell``, the trio <-> worker thread doorbell under every transaction statement: a
ring wakes the other side, rings merge, a cancelled wait takes nothing, close is safe —
with an eventfd and with the socket pair of systems without one."""

from __future__ import annotations

import sys

import pytest
import trio
import trio.testing

from geetrio._core import bell as bell_module
from geetrio._core.bell import Bell

KINDS = ["eventfd", "socketpair"] if sys.platform == "linux" else ["socketpair"]


@pytest.fixture(autouse=True, params=KINDS)
def kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test on both doorbells: Linux's eventfd (which Linux always has), and the
    socket pair used elsewhere."""
    if request.param == "socketpair":
        monkeypatch.setattr(bell_module, "_EVENTFD", False)
    else:
        assert bell_module._EVENTFD, "Linux without os.eventfd: the fast doorbell is gone"
    return str(request.param)


async def test_a_worker_thread_and_a_task_ring_each_other() -> None:
    there, back = Bell(), Bell()
    served: list[int] = []

    def worker() -> None:
        for i in range(100):
            there.wait()
            served.append(i)
            back.ring()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(trio.to_thread.run_sync, worker)
        for i in range(100):
            there.ring()
            await back.wait_async()
            assert served[-1] == i  # the answer to this ring, not an earlier one
    there.close()
    back.close()


async def test_rings_merge_and_a_cancelled_wait_takes_nothing(
    autojump_clock: trio.testing.MockClock,
) -> None:
    bell = Bell()
    bell.ring()
    bell.ring()
    await bell.wait_async()  # both rings, one wake-up
    with trio.move_on_after(1) as scope:  # nothing rang: it waits until cancelled
        await bell.wait_async()
    assert scope.cancelled_caught
    bell.ring()
    with trio.fail_after(1):
        await bell.wait_async()  # the ring after the cancel is there
    bell.close()
    bell.close()  # twice: nothing happens
    assert bell.closed


async def test_closing_wakes_a_waiting_task_with_an_error() -> None:
    bell = Bell()
    errors: list[BaseException] = []

    async def waiter() -> None:
        with pytest.raises(trio.ClosedResourceError) as caught:
            await bell.wait_async()
        errors.append(caught.value)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(waiter)
        await trio.testing.wait_all_tasks_blocked()
        bell.close()
    assert len(errors) == 1
