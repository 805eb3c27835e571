"""The frame sequences the widget's store is tested with, replayed through the Python client's
channel mirror: both clients must end in the same state."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from imagechat.client.live import Channel

FRAMES = Path(__file__).resolve().parents[1] / "fixtures" / "frames"
FIXTURES = sorted(FRAMES.glob("*.json"))
# Some sequences are about the widget's own transport decisions (epochs, reloads), which the
# mirror leaves to its client; the others must end the same in both.
SHARED = [path for path in FIXTURES if json.loads(path.read_text()).get("python")]


def _events(step: dict[str, Any]) -> list[dict[str, Any]]:
    """The events a step delivers, in the order they arrive."""
    if "poll" in step:
        return list(step["poll"].get("events", []))
    if "frame" not in step:
        return []
    frame = step["frame"]
    events: list[dict[str, Any]] = []
    for message in frame if isinstance(frame, list) else [frame]:
        if message.get("type") == "subscribed":
            events.extend(message.get("events", []))
        elif isinstance(message.get("offset"), int):
            events.append(message)
    return events


def test_there_are_fixtures() -> None:
    assert len(FIXTURES) >= 5
    assert len(SHARED) >= 4


@pytest.mark.parametrize("path", SHARED, ids=[p.stem for p in SHARED])
def test_python_client_mirror_replays_the_widget_fixtures(path: Path) -> None:
    fixture = json.loads(path.read_text())
    channel = Channel(fixture["urlId"])
    for step in fixture["steps"]:
        if "snapshot" in step:
            channel = Channel(fixture["urlId"])
            channel.chats.update({chat["id"]: chat for chat in step["snapshot"]["chats"]})
            channel.offset = step["snapshot"]["offset"]
        for event in _events(step):
            # In order and once, as the live client hands them over.
            if event["offset"] == channel.offset + 1:
                channel.apply(event)
    expected = fixture["expect"]
    assert channel.offset == expected["offset"]
    assert sorted(channel.chats) == sorted(expected["chats"])
    for chat_id, fields in expected["chats"].items():
        for field, value in fields.items():
            assert channel.chats[chat_id][field] == value, (chat_id, field)
