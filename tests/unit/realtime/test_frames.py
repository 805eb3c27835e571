"""Prepared frames: plain and compressed framings built once, shared, and decodable."""

from __future__ import annotations

import random
import zlib

import orjson
import pytest

from imagechat.realtime import frames
from imagechat.realtime.frames import ControlFrame, EventBatch, EventFrame


def _event(offset: int, body: str = "a comment of some length, " * 6) -> EventFrame:
    data = orjson.dumps({"type": "new-image-chat", "offset": offset, "comment": {"body": body}})
    return EventFrame.of("t", offset, data)


def _parse(wire: bytes) -> tuple[int, bytes]:
    length = wire[1] & 0x7F
    start = 2
    if length == 126:
        length, start = int.from_bytes(wire[2:4], "big"), 4
    elif length == 127:
        length, start = int.from_bytes(wire[2:10], "big"), 10
    assert len(wire) == start + length
    return wire[0], wire[start:]


def _inflate(body: bytes, window_bits: int) -> bytes:
    return zlib.decompressobj(-window_bits).decompress(body + b"\x00\x00\xff\xff")


@pytest.mark.parametrize("size", [100, 1000, 70_000])
def test_a_compressed_frame_decodes_with_a_fresh_inflater_to_the_payload(size: int) -> None:
    frame = ControlFrame(orjson.dumps({"type": "x", "pad": "abc " * (size // 4)}))
    first, body = _parse(frame.deflated(15))
    assert first == 0xC1  # FIN, RSV1 (compressed), text
    assert _inflate(body, 15) == frame.data
    assert len(body) < frame.nbytes


def test_framings_are_built_once_and_shared() -> None:
    frame = _event(1)
    assert frame.wire is frame.wire
    assert frame.deflated(15) is frame.deflated(15)
    assert _parse(frame.wire) == (0x81, frame.data)


def test_each_window_size_gets_its_own_shared_compression() -> None:
    frame = _event(1, "xyz" * 2000)
    big, small = frame.deflated(15), frame.deflated(9)
    assert frame.deflated(15) is big and frame.deflated(9) is small
    assert _inflate(_parse(small)[1], 9) == frame.data


def test_small_or_incompressible_payloads_go_out_plain() -> None:
    assert frames.PONG.deflated(15) == frames.PONG.wire
    noise = ControlFrame(random.Random(1).randbytes(300))
    assert noise.deflated(15) == noise.wire


def test_a_batch_is_one_array_of_its_events() -> None:
    batch = EventBatch.of([_event(1), _event(2)])
    assert [e["offset"] for e in orjson.loads(batch.data)] == [1, 2]
    assert orjson.loads(_inflate(_parse(batch.deflated(15))[1], 15)) == orjson.loads(batch.data)


def test_frames_are_equal_by_what_they_put_on_the_wire() -> None:
    assert _event(3) == _event(3)
    assert _event(3) != _event(4)
    assert ControlFrame(_event(3).data) != _event(3)
