"""Secure SSO: the hash a site's backend computes, and every way a payload can be refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import pytest

from imagechat.domain import limits, sso
from imagechat.domain.errors import ImageChatError, Unauthorized

SECRET = "tenant-a-secret"
OTHER_SECRET = "tenant-b-secret"
NOW = 1_790_000_000_000  # a fixed "now" in milliseconds: no test depends on the clock


def payload(
    user: dict[str, Any] | None = None,
    *,
    secret: str = SECRET,
    timestamp: int = NOW,
    user_data: str | None = None,
) -> sso.SsoPayload:
    encoded = (
        user_data
        if user_data is not None
        else sso.encode_user_data(user if user is not None else {"id": "42", "username": "ada"})
    )
    return sso.SsoPayload(encoded, sso.sign(secret, encoded, timestamp), timestamp)


def refusal(error: type[ImageChatError], code: str, data: sso.SsoPayload) -> ImageChatError:
    with pytest.raises(error) as caught:
        sso.verify(SECRET, data, NOW)
    assert caught.value.code == code, caught.value.message
    return caught.value


def test_sign_is_the_documented_hmac() -> None:
    """What docs/api.md tells site owners to compute, byte for byte."""
    data = base64.b64encode(b'{"id":"42","username":"ada"}').decode()
    expected = hmac.new(SECRET.encode(), (str(NOW) + data).encode(), hashlib.sha256).hexdigest()
    assert sso.sign(SECRET, data, NOW) == expected
    assert expected == expected.lower() and len(expected) == 64


def test_valid_payload_names_the_user() -> None:
    user = sso.verify(SECRET, payload(), NOW)
    assert (user.id, user.name, user.avatar_url, user.role) == ("sso:42", "ada", None, "user")


def test_valid_payload_with_everything() -> None:
    data = {
        "id": 7,
        "username": "  Grace \n Hopper ",
        "email": "grace@example.com",
        "avatar": "https://a.example/g.png",
        "isModerator": True,
    }
    user = sso.verify(SECRET, payload(data), NOW)
    assert user.id == "sso:7"
    assert user.name == "Grace Hopper"
    assert user.avatar_url == "https://a.example/g.png"
    assert user.role == "moderator"


@pytest.mark.parametrize(
    ("flags", "role"),
    [
        ({"isAdmin": True}, "admin"),
        ({"isAdmin": True, "isModerator": True}, "admin"),
        ({"isModerator": True}, "moderator"),
        ({"isAdmin": "true"}, "user"),  # only JSON true counts
        ({"isModerator": 1}, "user"),
        ({"isAdmin": False}, "user"),
    ],
)
def test_roles(flags: dict[str, Any], role: str) -> None:
    user = sso.verify(SECRET, payload({"id": "1", "username": "u", **flags}), NOW)
    assert user.role == role


def test_uppercase_hash_is_accepted() -> None:
    data = payload()
    upper = sso.SsoPayload(data.user_data_base64, data.verification_hash.upper(), data.timestamp)
    assert sso.verify(SECRET, upper, NOW).id == "sso:42"


def test_long_username_is_cut_to_the_name_limit() -> None:
    user = sso.verify(SECRET, payload({"id": "1", "username": "n" * 500}), NOW)
    assert user.name == "n" * limits.MAX_NAME


# --- refused ----------------------------------------------------------------------------------


def test_forged_hash() -> None:
    good = payload()
    for forged in ("0" * 64, good.verification_hash[:-1] + "0", "", "zz", "é" * 64, "💥"):
        if forged == good.verification_hash:
            continue
        bad = sso.SsoPayload(good.user_data_base64, forged, good.timestamp)
        refusal(Unauthorized, "sso_invalid_hash", bad)


def test_hash_bound_to_timestamp_and_data() -> None:
    good = payload()
    later = sso.SsoPayload(good.user_data_base64, good.verification_hash, NOW - 1)
    refusal(Unauthorized, "sso_invalid_hash", later)
    other_user = sso.encode_user_data({"id": "1", "username": "admin", "isAdmin": True})
    swapped = sso.SsoPayload(other_user, good.verification_hash, NOW)
    refusal(Unauthorized, "sso_invalid_hash", swapped)


def test_wrong_tenant() -> None:
    """A hash made with another tenant's secret is a forgery here."""
    refusal(Unauthorized, "sso_invalid_hash", payload(secret=OTHER_SECRET))
    assert sso.verify(OTHER_SECRET, payload(secret=OTHER_SECRET), NOW).id == "sso:42"


def test_expired() -> None:
    oldest = NOW - limits.SSO_MAX_AGE_MS
    assert sso.verify(SECRET, payload(timestamp=oldest), NOW).id == "sso:42"
    refusal(Unauthorized, "sso_expired", payload(timestamp=oldest - 1))
    refusal(Unauthorized, "sso_expired", payload(timestamp=NOW - 3 * 24 * 3600 * 1000))
    refusal(Unauthorized, "sso_expired", payload(timestamp=0))


def test_future_timestamp() -> None:
    # A little clock skew is forgiven; more is not.
    assert sso.verify(SECRET, payload(timestamp=NOW + limits.SSO_MAX_SKEW_MS), NOW)
    refusal(
        Unauthorized, "sso_future_timestamp", payload(timestamp=NOW + limits.SSO_MAX_SKEW_MS + 1)
    )
    refusal(Unauthorized, "sso_future_timestamp", payload(timestamp=NOW + 24 * 3600 * 1000))


@pytest.mark.parametrize("data", ["%%%", "abc", "a===", "not base64!", "ünï"])
def test_malformed_base64(data: str) -> None:
    error = refusal(Unauthorized, "sso_malformed_user_data", payload(user_data=data))
    assert error.status == 401


@pytest.mark.parametrize(
    "raw", [b"{not json", b"", b"\xff\xfe", b'{"id": 1,}', b"[1, 2]", b'"just a string"', b"42"]
)
def test_malformed_json(raw: bytes) -> None:
    refusal(
        Unauthorized, "sso_malformed_user_data", payload(user_data=base64.b64encode(raw).decode())
    )


@pytest.mark.parametrize(
    "user",
    [
        {"username": "no id"},
        {"id": "", "username": "empty id"},
        {"id": None, "username": "null id"},
        {"id": True, "username": "bool id"},
        {"id": 1.5, "username": "float id"},
        {"id": ["1"], "username": "list id"},
        {"id": "1"},
        {"id": "1", "username": ""},
        {"id": "1", "username": "   "},
        {"id": "1", "username": 5},
        {"id": "1", "username": "u", "avatar": 5},
        {"id": "1", "username": "u", "avatar": "x" * (limits.MAX_AVATAR_URL + 1)},
        {"id": "1\x00", "username": "u"},
        {"id": "1", "username": "u\x00"},
        {"id": "i" * (limits.MAX_USER_ID + 1), "username": "u"},
    ],
)
def test_missing_or_bad_id_and_username(user: dict[str, Any]) -> None:
    refusal(Unauthorized, "sso_malformed_user_data", payload(user))


def test_oversized_user_data_is_refused_before_hashing() -> None:
    data = "A" * (limits.MAX_SSO_USER_DATA + 1)
    refusal(Unauthorized, "sso_user_data_too_large", sso.SsoPayload(data, "0" * 64, NOW))


def test_forgery_is_judged_before_the_data_is_read() -> None:
    """A forged payload is 401 even when its data is junk: nothing unsigned is parsed."""
    junk = sso.SsoPayload("%%% junk %%%", "0" * 64, NOW)
    refusal(Unauthorized, "sso_invalid_hash", junk)


def test_expiry_is_judged_after_the_hash() -> None:
    stale_and_forged = sso.SsoPayload(payload().user_data_base64, "0" * 64, 0)
    refusal(Unauthorized, "sso_invalid_hash", stale_and_forged)


@pytest.mark.parametrize("timestamp", [str(NOW), float(NOW), None, True, [NOW], {"ms": NOW}])
def test_timestamp_of_another_type_is_refused(timestamp: object) -> None:
    """A string hashes like the number it spells; it is refused all the same, before the hash."""
    encoded = sso.encode_user_data({"id": "42", "username": "ada"})
    signed = sso.SsoPayload(encoded, sso.sign(SECRET, encoded, NOW), timestamp)
    refusal(Unauthorized, "sso_invalid_timestamp", signed)


@pytest.mark.parametrize(
    "avatar", ["javascript:alert(1)", "JavaScript:alert(1)", " data:text/html,<b>", "vbscript:x"]
)
def test_avatar_with_a_script_scheme_is_refused(avatar: str) -> None:
    user = {"id": 1, "username": "a", "avatar": avatar}
    refusal(Unauthorized, "sso_malformed_user_data", payload(user))


@pytest.mark.parametrize("avatar", ["https://a.example/a.png", "http://a.example/a", "/a.png"])
def test_avatar_urls_that_are_fine(avatar: str) -> None:
    user = sso.verify(SECRET, payload({"id": 1, "username": "a", "avatar": avatar}), NOW)
    assert user.avatar_url == avatar


@pytest.mark.parametrize("flag", ["true", 1, "yes", [True], {"x": True}])
def test_only_json_true_grants_a_role(flag: object) -> None:
    for name in ("isAdmin", "isModerator"):
        user = sso.verify(SECRET, payload({"id": 1, "username": "a", name: flag}), NOW)
        assert user.role == "user"


def test_every_refusal_is_401() -> None:
    """Whatever is wrong, the caller is simply not signed in."""
    for bad in (
        payload(secret=OTHER_SECRET),
        payload(timestamp=0),
        payload(user_data="%%%"),
        payload(user_data=base64.b64encode(b"[1]").decode()),
        payload({"username": "no id"}),
        sso.SsoPayload("A" * (limits.MAX_SSO_USER_DATA + 1), "0", NOW),
        sso.SsoPayload("e30=", "0", "1"),
    ):
        with pytest.raises(Unauthorized) as caught:
            sso.verify(SECRET, bad, NOW)
        assert caught.value.status == 401 and caught.value.code.startswith("sso_")
