"""Who may do what: the permission predicates, each refusing with 403 and a stable code."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from imagechat.domain import permissions
from imagechat.domain.errors import Forbidden
from imagechat.domain.models import Chat, Comment, Role, Tenant, User

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def user(uid: str, role: Role = "guest") -> User:
    return User(id=uid, name=uid.title(), avatar_url=None, role=role)


AUTHOR = user("author")
STRANGER = user("stranger")
SIGNED_IN = user("sso:9", "user")
MODERATOR = user("sso:mod", "moderator")
ADMIN = user("sso:admin", "admin")
CHAT = Chat("c1", "img", 1.0, 2.0, 1, False, AUTHOR, T0, T0, 1)
COMMENT = Comment("m1", "c1", "hi", AUTHOR, T0, None)


def tenant(*, readonly: bool = False, origins: tuple[str, ...] = ()) -> Tenant:
    return Tenant("t", "secret", origins, private=False, readonly=readonly, epoch="e")


def allowed(check: Callable[[], None]) -> bool:
    try:
        check()
    except Forbidden:
        return False
    return True


def assert_refused(check: Callable[[], None], code: str) -> None:
    with pytest.raises(Forbidden) as caught:
        check()
    assert caught.value.code == code
    assert caught.value.status == 403


@pytest.mark.parametrize(
    ("actor", "public", "readonly"),
    [
        (STRANGER, True, False),
        (SIGNED_IN, True, False),
        (MODERATOR, True, True),
        (ADMIN, True, True),
    ],
)
def test_may_write(actor: User, public: bool, readonly: bool) -> None:
    assert allowed(lambda: permissions.may_write(tenant(), actor)) is public
    assert allowed(lambda: permissions.may_write(tenant(readonly=True), actor)) is readonly


def test_readonly_code() -> None:
    assert_refused(lambda: permissions.may_write(tenant(readonly=True), SIGNED_IN), "readonly")


@pytest.mark.parametrize(
    ("actor", "expected"),
    [(AUTHOR, True), (STRANGER, False), (SIGNED_IN, False), (MODERATOR, True), (ADMIN, True)],
)
def test_may_manage_chat(actor: User, expected: bool) -> None:
    assert allowed(lambda: permissions.may_manage_chat(actor, CHAT)) is expected


def test_may_manage_chat_code() -> None:
    assert_refused(lambda: permissions.may_manage_chat(STRANGER, CHAT), "not_chat_author")


def test_same_name_is_not_same_author() -> None:
    impostor = User(id="other", name=AUTHOR.name, avatar_url=None, role="guest")
    assert not allowed(lambda: permissions.may_manage_chat(impostor, CHAT))
    assert not allowed(lambda: permissions.may_edit_comment(impostor, COMMENT))


@pytest.mark.parametrize(
    ("actor", "expected"),
    [(AUTHOR, True), (STRANGER, False), (SIGNED_IN, False), (MODERATOR, False), (ADMIN, False)],
)
def test_only_the_author_edits(actor: User, expected: bool) -> None:
    assert allowed(lambda: permissions.may_edit_comment(actor, COMMENT)) is expected


@pytest.mark.parametrize(
    ("actor", "expected"),
    [(AUTHOR, True), (STRANGER, False), (SIGNED_IN, False), (MODERATOR, True), (ADMIN, True)],
)
def test_may_delete_comment(actor: User, expected: bool) -> None:
    assert allowed(lambda: permissions.may_delete_comment(actor, COMMENT)) is expected


def test_comment_codes() -> None:
    assert_refused(lambda: permissions.may_edit_comment(MODERATOR, COMMENT), "not_comment_author")
    assert_refused(lambda: permissions.may_delete_comment(STRANGER, COMMENT), "not_comment_author")


@pytest.mark.parametrize(
    ("actor", "expected"),
    [(STRANGER, False), (SIGNED_IN, False), (MODERATOR, False), (ADMIN, True)],
)
def test_may_read_usage(actor: User, expected: bool) -> None:
    assert allowed(lambda: permissions.may_read_usage(actor)) is expected
    if not expected:
        assert_refused(lambda: permissions.may_read_usage(actor), "admin_only")


@pytest.mark.parametrize(
    ("origins", "origin", "expected"),
    [
        ((), None, True),
        ((), "https://anything.example", True),
        (("https://a.example",), None, True),  # servers send no Origin
        (("https://a.example",), "https://a.example", True),
        (("https://a.example",), "https://A.EXAMPLE/", True),
        (("https://a.example",), "http://a.example", False),
        (("https://a.example",), "https://a.example:444", False),
        (("https://a.example",), "https://b.example", False),
        (("https://a.example",), "null", False),
        (("https://a.example",), "", False),
        (("https://a.example", "https://b.example"), "https://b.example", True),
    ],
)
def test_may_use_origin(origins: tuple[str, ...], origin: str | None, expected: bool) -> None:
    check = lambda: permissions.may_use_origin(tenant(origins=origins), origin)  # noqa: E731
    assert allowed(check) is expected
    if not expected:
        assert_refused(check, "origin_not_allowed")


def test_staff_roles() -> None:
    assert [u.is_staff for u in (STRANGER, SIGNED_IN, MODERATOR, ADMIN)] == [
        False,
        False,
        True,
        True,
    ]
