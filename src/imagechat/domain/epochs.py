"""Epochs name one history of a channel, and they are ordered.

An epoch is ``<generation as 8 hex digits>.<12 random hex digits>``: a new history takes the
next generation, so it sorts after every older one, and the random part keeps two deployments
restored from the same backup apart. Epochs written before ordering existed (16 random hex
digits) are generation 0: any generated epoch is newer than them.
"""

from __future__ import annotations

import secrets

_GENERATION_DIGITS = 8


def generation(epoch: str) -> int:
    """The epoch's generation; 0 for an epoch without one (made before epochs were ordered)."""
    head, dot, _ = epoch.partition(".")
    if dot and len(head) == _GENERATION_DIGITS:
        try:
            return int(head, 16)
        except ValueError:
            return 0
    return 0


def new_epoch(after: str | None = None) -> str:
    """A fresh epoch that sorts after `after` (or the first generation when there is none)."""
    number = generation(after) + 1 if after else 1
    return f"{number:0{_GENERATION_DIGITS}x}.{secrets.token_hex(6)}"


def is_older(candidate: str, current: str) -> bool:
    """True when `candidate` names a history that `current` has replaced: ignore it.

    Two different epochs of one generation (only possible for unordered, legacy epochs) are
    not ordered: neither is older, so the newer-arriving one is taken as a change of history.
    """
    return generation(candidate) < generation(current)
