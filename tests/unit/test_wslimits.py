"""Per-address connection counts and the per-connection replay budget."""

from __future__ import annotations

import time

from imagechat.realtime.messages import ProtocolError, parse
from imagechat.web.wslimits import AddressCounter, ReplayBudget


def test_addresses_are_counted_up_to_the_limit_and_released() -> None:
    counter = AddressCounter(2)
    assert counter.enter("a") and counter.enter("a")
    assert not counter.enter("a")  # refused, not counted
    assert counter.enter("b")
    counter.leave("a")
    assert counter.count("a") == 1 and counter.enter("a")
    counter.leave("b")
    assert counter.count("b") == 0


def test_no_address_limit_at_zero() -> None:
    counter = AddressCounter(0)
    assert all(counter.enter("a") for _ in range(10_000))


def test_the_replay_budget_refuses_while_spent_and_refills() -> None:
    budget = ReplayBudget(rate=1000, burst=10)
    assert budget.wait() == 0
    budget.spend(25)  # one replay may overdraw
    wait = budget.wait()
    assert 0.01 < wait <= 0.02
    time.sleep(wait + 0.005)
    assert budget.wait() == 0


def test_an_unlimited_replay_budget() -> None:
    budget = ReplayBudget(rate=0, burst=0)
    budget.spend(10**9)
    assert budget.wait() == 0


def test_the_message_limit_counts_bytes_not_characters() -> None:
    body = '{"type": "ping", "pad": "' + "€" * 2800 + '"}'  # < 8192 characters, > 8192 bytes
    assert len(body) < 8192 < len(body.encode())
    for raw in (body, body.encode()):
        try:
            parse(raw)
        except ProtocolError as error:
            assert error.fatal and error.code == "too_large"
        else:
            raise AssertionError("an over-size message was accepted")
