"""Epochs are ordered: a new history sorts after the one it replaces."""

from __future__ import annotations

from imagechat.domain.epochs import generation, is_older, new_epoch


def test_a_new_epoch_sorts_after_the_one_it_replaces() -> None:
    first = new_epoch()
    assert generation(first) == 1
    second = new_epoch(after=first)
    assert generation(second) == 2
    assert is_older(first, second)
    assert not is_older(second, first)
    assert not is_older(second, second)


def test_epochs_fit_the_column_and_differ_by_randomness() -> None:
    made = {new_epoch() for _ in range(100)}
    assert len(made) == 100
    assert all(len(epoch) <= 32 for epoch in made)


def test_legacy_epochs_are_generation_zero_and_older_than_any_new_one() -> None:
    legacy = "0123456789abcdef"
    assert generation(legacy) == 0
    assert is_older(legacy, new_epoch())
    assert generation(new_epoch(after=legacy)) == 1
    # Two unordered epochs of one generation: neither is older, a change is a change.
    assert not is_older(legacy, "fedcba9876543210")
    assert generation("zzzzzzzz.abc") == 0
