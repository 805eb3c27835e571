"""Property: whatever JSON a client sends to POST /chats, the answer is never a 5xx."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from restkit import Api, assert_error

JSON = {"Content-Type": "application/json"}

# Text that reaches the database in interesting ways: NUL, lone surrogates, huge and tiny.
awkward_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", " ", "\x00", "\ud800", "a\udfffb", "\u202e", "x" * 600, "é" * 2001]),
)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    awkward_text,
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
plausible: dict[str, Any] = {
    "urlId": st.one_of(awkward_text, st.just("image-1")),
    "x": st.one_of(st.floats(), st.integers(), st.just(50)),
    "y": st.one_of(st.floats(), st.integers(), st.just(50)),
    "comment": st.one_of(awkward_text, st.just("hello")),
    "broadcastId": st.one_of(st.uuids().map(str), awkward_text),
    "pageUrl": st.one_of(st.none(), awkward_text),
    "imageSrc": st.one_of(st.none(), awkward_text),
}


@st.composite
def chat_bodies(draw: st.DrawFn) -> Any:
    """Mostly a valid body with one to three fields dropped or replaced, so that requests get
    deep into validation and storage; sometimes any JSON value at all."""
    if draw(st.integers(0, 9)) == 0:
        return draw(json_values)
    body: dict[str, Any] = {
        "urlId": "image-1",
        "x": 50,
        "y": 50,
        "comment": "hello",
        "broadcastId": str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1)))),
    }
    keys = draw(st.lists(st.sampled_from([*plausible, "extra"]), min_size=1, max_size=3))
    for key in keys:
        action = draw(st.sampled_from(["drop", "plausible", "any"]))
        if action == "drop":
            body.pop(key, None)
        elif action == "plausible" and key in plausible:
            body[key] = draw(plausible[key])
        else:
            body[key] = draw(json_values)
    return body


@pytest.fixture()
async def token(api: Api) -> str:
    return await api.guest("Fuzz")


@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=chat_bodies())
async def test_random_bodies_never_get_a_5xx(api: Api, token: str, body: Any) -> None:
    # ensure_ascii spells lone surrogates as \udXXX escapes, as a hostile client could;
    # allow_nan sends the NaN/Infinity literals Python's parser accepts.
    raw = json.dumps(body, ensure_ascii=True, allow_nan=True).encode()
    answer = await api.post("/chats", content=raw, headers=JSON, token=token)
    assert answer.status_code < 500, (body, answer.text)
    if answer.status_code == 201:
        created = answer.json()
        assert created["chat"]["urlId"] == body["urlId"]
        assert 0 <= created["chat"]["x"] <= 100
    else:
        assert_error(answer, answer.status_code)
        assert answer.status_code in (400, 409, 413, 422), answer.text


async def test_valid_bodies_from_the_same_strategies_are_created(api: Api, token: str) -> None:
    """Guards the property above from passing vacuously: the plausible values do succeed."""
    body = {
        "urlId": "image-1",
        "x": 50,
        "y": 50,
        "comment": "hello",
        "broadcastId": str(uuid.uuid4()),
    }
    answer = await api.post("/chats", content=json.dumps(body).encode(), headers=JSON, token=token)
    assert answer.status_code == 201, answer.text
