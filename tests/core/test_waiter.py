"""``Waiter``: the one future under the RPC client, the pipelined HTTP client and the
ORM's worker jobs — what a result, an error and a cancellation do to it."""

from __future__ import annotations

import outcome
import pytest
import trio
import trio.testing

from geetrio._core.waiter import Waiter


async def test_the_waiting_task_gets_what_is_set() -> None:
    waiter: Waiter[int] = Waiter()
    async with trio.open_nursery() as nursery:
        got: list[int] = []

        async def wait() -> None:
            got.append(await waiter.wait())

        nursery.start_soon(wait)
        await trio.testing.wait_all_tasks_blocked()
        assert not waiter.done
        assert waiter.set(outcome.Value(7))
        assert not waiter.set(outcome.Value(8))  # one result only
    assert got == [7]


async def test_an_error_is_raised_in_the_waiting_task() -> None:
    waiter: Waiter[int] = Waiter()
    waiter.set(outcome.Error(LookupError("gone")))  # before anyone waits: kept
    with pytest.raises(LookupError, match="gone"):
        await waiter.wait()


async def test_a_result_set_first_survives_a_cancelled_scope() -> None:
    waiter: Waiter[str] = Waiter()
    waiter.set(outcome.Value("kept"))
    with trio.CancelScope() as scope:
        scope.cancel()
        assert await waiter.wait() == "kept"  # the checkpoint is shielded: not lost


async def test_cancelled_it_stops_at_once_and_a_late_result_is_refused(
    autojump_clock: trio.testing.MockClock,
) -> None:
    waiter: Waiter[int] = Waiter()
    with trio.move_on_after(1):
        await waiter.wait()
    assert waiter.abandoned
    assert not waiter.set(outcome.Value(1))  # the other side learns nobody took it


async def test_with_on_cancel_it_asks_and_keeps_waiting_for_the_answer() -> None:
    waiter: Waiter[str] = Waiter()
    asked = trio.Event()
    got: list[str] = []

    async def wait(scope: trio.CancelScope) -> None:
        with scope:
            got.append(await waiter.wait(on_cancel=asked.set))

    scope = trio.CancelScope()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(wait, scope)
        await trio.testing.wait_all_tasks_blocked()
        scope.cancel()
        await asked.wait()
        assert not waiter.abandoned
        assert waiter.set(outcome.Value("stopped early"))
    assert got == ["stopped early"]
