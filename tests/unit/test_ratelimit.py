"""Token buckets behind 429 and 4029."""

from __future__ import annotations

import pytest

from imagechat.domain.errors import RateLimited
from imagechat.web.ratelimit import RateLimiter, TokenBucket


def test_bucket_allows_a_burst_then_the_rate() -> None:
    bucket = TokenBucket(rate=2, burst=3)
    start = bucket.stamp
    assert [bucket.take(start) for _ in range(3)] == [0, 0, 0]
    assert bucket.take(start) == pytest.approx(0.5)
    assert bucket.take(start + 0.5) == 0
    assert bucket.take(start + 0.5) > 0


def test_rate_zero_is_unlimited() -> None:
    limiter = RateLimiter(0, 1)
    for _ in range(1000):
        limiter.check("k")


def test_limiter_keys_are_independent_and_say_when_to_retry() -> None:
    limiter = RateLimiter(rate=1, burst=2)
    limiter.check("a")
    limiter.check("a")
    with pytest.raises(RateLimited) as limited:
        limiter.check("a")
    assert limited.value.status == 429 and limited.value.retry_after == 1
    limiter.check("b")
