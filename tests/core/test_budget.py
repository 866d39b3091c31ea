"""One connection budget per process: each server keeps a floor whatever the others do."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from geetrio._core.budget import Budget


def take_all(share) -> int:  # type: ignore[no-untyped-def]
    taken = 0
    while share.try_acquire():
        taken += 1
    return taken


def test_a_flooded_server_leaves_every_other_its_floor() -> None:
    budget = Budget(70)
    shares = [budget.share() for _ in range(7)]
    assert budget.floor == 5
    assert take_all(shares[0]) == 70 - 6 * 5
    for share in shares[1:]:
        assert take_all(share) == 5  # each of the others still gets its floor
    assert budget.used == 70
    shares[0].release()
    assert shares[0].try_acquire() and not shares[1].try_acquire()


def test_a_servers_own_cap_and_closing() -> None:
    budget = Budget(100)
    capped = budget.share(cap=3)
    other = budget.share()
    assert take_all(capped) == 3
    assert take_all(other) == 100 - 3
    capped.close()
    assert budget.floor == 50 and budget.shares == [other]
    with pytest.raises(ValueError):
        budget.share(cap=0)
    with pytest.raises(ValueError):
        Budget(0)


async def test_a_waiting_accept_wakes_when_a_connection_closes() -> None:
    budget = Budget(4)
    share = budget.share()
    assert take_all(share) == 4
    got = trio.Event()

    async def waiter() -> None:
        await share.acquire()
        got.set()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(waiter)
        await trio.testing.wait_all_tasks_blocked()
        assert not got.is_set()
        share.release()
        await got.wait()
    assert share.used == 4
