from __future__ import annotations

import pytest
import trio
import trio.testing

from geetrio.cache import SingleFlight


async def test_a_thousand_callers_of_one_cold_key_make_one_load(
    autojump_clock: trio.testing.MockClock,
) -> None:
    sf: SingleFlight[bytes] = SingleFlight()
    calls = 0

    async def load() -> bytes:
        nonlocal calls
        calls += 1
        await trio.sleep(1)
        return b"bar"

    results: list[bytes] = []

    async def caller() -> None:
        results.append(await sf.do("key", load))

    async with trio.open_nursery() as nursery:
        for _ in range(1000):
            nursery.start_soon(caller)
    assert calls == 1
    assert results == [b"bar"] * 1000
    assert not sf.in_flight("key")


async def test_an_error_reaches_every_waiter_and_leaves_nothing_behind(
    autojump_clock: trio.testing.MockClock,
) -> None:
    sf: SingleFlight[bytes] = SingleFlight()
    calls = 0

    async def load() -> bytes:
        nonlocal calls
        calls += 1
        await trio.sleep(1)
        raise KeyError("missing")

    errors: list[BaseException] = []

    async def caller() -> None:
        try:
            await sf.do("key", load)
        except KeyError as exc:
            errors.append(exc)

    async with trio.open_nursery() as nursery:
        for _ in range(4):
            nursery.start_soon(caller)
    assert calls == 1 and len(errors) == 4
    assert not sf.in_flight("key")


async def test_a_cancelled_leader_hands_over_to_a_waiter(
    autojump_clock: trio.testing.MockClock,
) -> None:
    sf: SingleFlight[bytes] = SingleFlight()
    calls = 0

    async def load() -> bytes:
        nonlocal calls
        calls += 1
        await trio.sleep(1)
        return f"value {calls}".encode()

    results: list[bytes] = []
    leader_scope = trio.CancelScope()

    async def leader() -> None:
        with leader_scope:
            await sf.do("key", load)

    async def follower() -> None:
        results.append(await sf.do("key", load))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(leader)
        await trio.testing.wait_all_tasks_blocked()
        for _ in range(3):
            nursery.start_soon(follower)
        await trio.testing.wait_all_tasks_blocked()
        leader_scope.cancel()
    assert leader_scope.cancelled_caught
    assert calls == 2  # the load ran again, once, for the followers
    assert results == [b"value 2"] * 3  # nobody saw the leader's cancellation
    assert not sf.in_flight("key")


async def test_a_cancelled_follower_does_not_disturb_the_others(
    autojump_clock: trio.testing.MockClock,
) -> None:
    sf: SingleFlight[bytes] = SingleFlight()

    async def load() -> bytes:
        await trio.sleep(1)
        return b"ok"

    results: list[bytes] = []

    async def follower_with_short_patience() -> None:
        with trio.move_on_after(0.1):
            await sf.do("key", load)
            results.append(b"impatient got it")

    async def caller() -> None:
        results.append(await sf.do("key", load))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(caller)
        await trio.testing.wait_all_tasks_blocked()
        nursery.start_soon(follower_with_short_patience)
        nursery.start_soon(caller)
    assert results == [b"ok", b"ok"]


async def test_different_keys_load_independently(autojump_clock: trio.testing.MockClock) -> None:
    sf: SingleFlight[str] = SingleFlight()
    seen: list[str] = []

    async def load_for(key: str) -> str:
        seen.append(key)
        await trio.sleep(1)
        return key.upper()

    async with trio.open_nursery() as nursery:
        for key in ("a", "b", "a", "b"):
            nursery.start_soon(sf.do, key, lambda key=key: load_for(key))
    assert sorted(seen) == ["a", "b"]


async def test_back_to_back_calls_load_again_once_the_flight_is_over() -> None:
    sf: SingleFlight[int] = SingleFlight()
    calls = 0

    async def load() -> int:
        nonlocal calls
        calls += 1
        return calls

    assert await sf.do("k", load) == 1
    assert await sf.do("k", load) == 2  # no stale result kept between flights


async def test_keyboard_interrupt_is_not_handed_to_followers(
    autojump_clock: trio.testing.MockClock,
) -> None:
    sf: SingleFlight[bytes] = SingleFlight()
    calls = 0

    async def load() -> bytes:
        nonlocal calls
        calls += 1
        await trio.sleep(1)
        if calls == 1:
            raise KeyboardInterrupt
        return b"second"

    results: list[bytes] = []

    async def leader() -> None:
        with pytest.raises(KeyboardInterrupt):
            await sf.do("key", load)

    async def follower() -> None:
        results.append(await sf.do("key", load))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(leader)
        await trio.testing.wait_all_tasks_blocked()
        nursery.start_soon(follower)
    assert results == [b"second"]
