"""Value rules: each bad value is refused with Invalid (422) and a code naming the rule."""

from __future__ import annotations

import math
import uuid

import pytest

from imagechat.domain import limits, validation
from imagechat.domain.errors import Invalid


class _raises:
    """pytest.raises(Invalid) that also checks the error's code and status."""

    def __init__(self, code: str) -> None:
        self.code = code

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, _tb: object
    ) -> bool:
        assert error is not None, f"expected Invalid({self.code!r}), nothing was raised"
        assert isinstance(error, Invalid), error
        assert error.code == self.code, (error.code, error.message)
        assert error.status == 422
        assert error.message
        return True


# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["a", "acme", "my-site_2", "0day", "a" * 64])
def test_tenant_id_accepts(value: str) -> None:
    assert validation.tenant_id(value) == value


@pytest.mark.parametrize(
    "value", ["", "-a", "_a", "A", "Acme", "a b", "a.b", "a/b", "é", "a" * 65, "a\n", "a\x00"]
)
def test_tenant_id_refuses(value: str) -> None:
    with _raises("invalid_tenant_id"):
        validation.tenant_id(value)


@pytest.mark.parametrize(
    "value", ["x", "https://a.example/p?q=1#h", "ünïcode/ids", " spaces ", "u" * limits.MAX_URL_ID]
)
def test_url_id_accepts(value: str) -> None:
    assert validation.url_id(value) == value


@pytest.mark.parametrize(
    "value", ["", "u" * (limits.MAX_URL_ID + 1), "a\nb", "\t", "a\x00", "del\x7f", "\ud800"]
)
def test_url_id_refuses(value: str) -> None:
    with _raises("invalid_url_id"):
        validation.url_id(value)


@pytest.mark.parametrize("value", [0, 100, 0.0, 100.0, 50, 33.333, 1e-9, 99.9999999])
def test_coordinate_accepts(value: float) -> None:
    result = validation.coordinate("x", value)
    assert result == value
    assert isinstance(result, float)


@pytest.mark.parametrize(
    "value", [-1e-9, 100.000001, 150, -5, math.nan, math.inf, -math.inf, 1e308, True, False]
)
def test_coordinate_refuses(value: float) -> None:
    with _raises("invalid_coordinate"):
        validation.coordinate("y", value)


def test_coordinate_refuses_non_numbers_and_names_the_field() -> None:
    for value in ("50", None, [50]):
        with pytest.raises(Invalid) as caught:
            validation.coordinate("x", value)  # type: ignore[arg-type]
        assert caught.value.code == "invalid_coordinate"
        assert caught.value.message.startswith("x ")


@pytest.mark.parametrize(
    "value",
    [
        "a",
        "  padded  ",
        "line\nbreaks\tand tabs",
        "<b>html stays text</b>",
        "é" * limits.MAX_COMMENT,
    ],
)
def test_comment_is_kept_verbatim(value: str) -> None:
    assert validation.comment_body(value) == value


def test_comment_length_counts_after_trimming() -> None:
    assert validation.comment_body("   " + "a" * limits.MAX_COMMENT + "\n")
    with _raises("invalid_comment"):
        validation.comment_body("a" * (limits.MAX_COMMENT + 1))


@pytest.mark.parametrize("value", ["", " ", "\n\t ", "\u00a0", "\u2003\u3000", "a\x00", "\udfff"])
def test_comment_refuses_empty_and_unstorable(value: str) -> None:
    with _raises("invalid_comment"):
        validation.comment_body(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Ada", "Ada"),
        ("  Ada   Lovelace ", "Ada Lovelace"),
        ("a\tb\nc", "a b c"),
        ("n" * 64, "n" * 64),
    ],
)
def test_display_name_collapses_whitespace(value: str, expected: str) -> None:
    assert validation.display_name(value) == expected


@pytest.mark.parametrize("value", ["", "   ", "n" * 65, "a\x00", "\ud800"])
def test_display_name_refuses(value: str) -> None:
    with _raises("invalid_name"):
        validation.display_name(value)


def test_broadcast_id_is_canonical() -> None:
    value = uuid.uuid4()
    canonical = str(value)
    for spelling in (
        canonical,
        canonical.upper(),
        value.hex,
        "{" + canonical + "}",
        f"urn:uuid:{canonical}",
    ):
        assert validation.broadcast_id(spelling) == canonical


@pytest.mark.parametrize("value", ["", "x", "1234", "g" * 32, str(uuid.uuid4()) + "0"])
def test_broadcast_id_refuses(value: str) -> None:
    with _raises("invalid_broadcast_id"):
        validation.broadcast_id(value)


def test_broadcast_id_refuses_non_strings() -> None:
    with _raises("invalid_broadcast_id"):
        validation.broadcast_id(None)  # type: ignore[arg-type]


def test_optional_url() -> None:
    assert validation.optional_url("pageUrl", None, 10) is None
    assert validation.optional_url("pageUrl", "0123456789", 10) == "0123456789"
    for bad in ("01234567890", "a\x00", "\ud800"):
        with _raises("invalid_url"):
            validation.optional_url("pageUrl", bad, 10)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://a.example", "https://a.example"),
        ("https://A.Example/", "https://a.example"),
        ("http://localhost:8080", "http://localhost:8080"),
        ("http://[::1]:3000", "http://[::1]:3000"),
    ],
)
def test_origin_is_normalized(value: str, expected: str) -> None:
    assert validation.origin(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "a.example",
        "ftp://a.example",
        "https://a.example/path",
        "https://",
        "*",
        "https://a b",
        "https://a.example\n",
    ],
)
def test_origin_refuses(value: str) -> None:
    with _raises("invalid_origin"):
        validation.origin(value)


def test_api_secret() -> None:
    assert validation.api_secret("s") == "s"
    assert validation.api_secret("x" * limits.MAX_API_SECRET)
    for bad in ("", "x" * (limits.MAX_API_SECRET + 1), "tab\there", "nul\x00"):
        with _raises("invalid_api_secret"):
            validation.api_secret(bad)


def test_storable() -> None:
    assert validation.storable("plain ünïcode ✓ 💥")
    assert not validation.storable("nul\x00")
    assert not validation.storable("lone \ud800")


def test_refused_helper_checks_the_code() -> None:
    """The helper itself must fail on a wrong code, or every test above would be hollow."""
    with pytest.raises(AssertionError), _raises("invalid_comment"):
        validation.url_id("")
    with pytest.raises(AssertionError), _raises("invalid_comment"):
        pass
