"""Parsing what clients send over /ws."""

from __future__ import annotations

import pytest

from imagechat.realtime.messages import Ping, ProtocolError, Subscribe, Unsubscribe, parse


def test_valid_messages() -> None:
    assert parse('{"type": "ping"}') == Ping()
    assert parse('{"type": "unsubscribe", "tenantId": "t", "urlId": "u"}') == Unsubscribe("t", "u")
    assert parse(
        '{"type": "subscribe", "tenantId": "t", "urlId": "u", "epoch": "e", "offset": 3}'
    ) == Subscribe("t", "u", "e", 3, None)


@pytest.mark.parametrize(
    ("raw", "fatal"),
    [
        ("not json", True),
        ("x" * 9000, True),
        ("[]", False),
        ('{"type": "shout"}', False),
        ('{"type": "subscribe", "tenantId": 1, "urlId": "u"}', False),
        ('{"type": "subscribe", "tenantId": "t", "urlId": ""}', False),
        ('{"type": "subscribe", "tenantId": "t", "urlId": "u", "offset": -1}', False),
        ('{"type": "subscribe", "tenantId": "t", "urlId": "u", "offset": true}', False),
        ('{"type": "subscribe", "tenantId": "t", "urlId": "u", "epoch": 5}', False),
    ],
)
def test_bad_messages(raw: str, fatal: bool) -> None:
    with pytest.raises(ProtocolError) as error:
        parse(raw)
    assert error.value.fatal is fatal
