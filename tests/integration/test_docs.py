"""The user docs are part of the product: these fail when the code grows something they miss.

- docs/configuration.md: every Settings field (name, IMAGECHAT_* variable, default), every CLI
  command and flag;
- docs/api.md: every error code the server can answer with, every REST route, every limit,
  and a secure-SSO example that really produces a hash the server accepts.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from imagechat import cli
from imagechat.domain import limits, sso
from imagechat.settings import Settings
from imagechat.web.app import create_app

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO / "src" / "imagechat"
API_DOC = REPO / "docs" / "api.md"
CONFIG_DOC = REPO / "docs" / "configuration.md"
API_PREFIX = "/api/v1/{tenantId}"

ERROR_CLASSES = {
    "ImageChatError",
    "BadRequest",
    "Unauthorized",
    "Forbidden",
    "NotFound",
    "Conflict",
    "TooLarge",
    "Invalid",
    "RateLimited",
}


@pytest.fixture(scope="module")
def api_doc() -> str:
    return API_DOC.read_text()


@pytest.fixture(scope="module")
def config_doc() -> str:
    return CONFIG_DOC.read_text()


# --------------------------------------------------------------------------------------------
# Settings and CLI -> configuration.md
# --------------------------------------------------------------------------------------------


def _rendered_default(field: dataclasses.Field[object]) -> str | None:
    if field.default is dataclasses.MISSING:
        return None  # a default_factory: random or computed, documented in words
    if isinstance(field.default, bool):
        return "true" if field.default else "false"
    return str(field.default)


def _row(doc: str, needle: str) -> str | None:
    for line in doc.splitlines():
        if line.startswith("|") and needle in line:
            return line
    return None


def test_every_setting_is_documented(config_doc: str) -> None:
    missing = []
    for field in dataclasses.fields(Settings):
        variable = f"IMAGECHAT_{field.name.upper()}"
        row = _row(config_doc, f"`{variable}`")
        if row is None or f"`{field.name}`" not in row:
            missing.append(f"{field.name} ({variable}): no table row naming both")
            continue
        default = _rendered_default(field)
        if default is not None and f"`{default}`" not in row:
            missing.append(f"{field.name}: default `{default}` not in its row")
    assert not missing, "docs/configuration.md is missing:\n" + "\n".join(missing)


def _commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, (*path, name))


def test_every_cli_command_and_flag_is_documented(config_doc: str) -> None:
    missing = []
    commands = list(_commands(cli.build_parser()))
    assert len(commands) > 4  # the walk itself works: serve, migrate, tenant, create, list
    for path, parser in commands:
        leaf = not any(isinstance(a, argparse._SubParsersAction) for a in parser._actions)
        if path and leaf and f"`imagechat {' '.join(path)}" not in config_doc:
            missing.append(f"command: imagechat {' '.join(path)}")
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
                continue
            if action.option_strings:
                long = max(action.option_strings, key=len)
                if f"`{long}" not in config_doc:
                    missing.append(f"flag: imagechat {' '.join(path)} {long}")
            elif f"`{action.metavar or action.dest}`" not in config_doc:
                missing.append(f"argument: imagechat {' '.join(path)} {action.metavar}")
    assert not missing, "docs/configuration.md is missing:\n" + "\n".join(missing)


def test_cli_walk_sees_flags() -> None:
    """Guards the test above from passing vacuously."""
    flags = {
        option
        for _path, parser in _commands(cli.build_parser())
        for action in parser._actions
        for option in action.option_strings
    }
    assert {"--database-url", "--origin", "--private", "--readonly", "--secret"} <= flags


# --------------------------------------------------------------------------------------------
# Error codes, routes, limits -> api.md
# --------------------------------------------------------------------------------------------


def _string(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def error_codes() -> dict[str, set[str]]:
    """Every error code string in src/imagechat, with the files that use it.

    Found where codes are made: `code = "..."` on error classes, the code argument of
    ImageChatError subclasses, error_response(status, code, ...), ProtocolError(code, ...),
    and the status -> code map of web/errors.py. Codes held in variables are made elsewhere.
    """
    found: dict[str, set[str]] = {}

    def add(code: str | None, path: Path) -> None:
        if code is not None:
            found.setdefault(code, set()).add(str(path.relative_to(REPO)))

    for path in sorted(SOURCE.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                for statement in node.body:
                    if isinstance(statement, ast.Assign) and any(
                        isinstance(t, ast.Name) and t.id == "code" for t in statement.targets
                    ):
                        add(_string(statement.value), path)
            elif isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "_HTTP_CODES" for t in node.targets
            ):
                assert isinstance(node.value, ast.Dict)
                for value in node.value.values:
                    add(_string(value), path)
            elif isinstance(node, ast.Call):
                func = node.func
                name = (
                    func.id
                    if isinstance(func, ast.Name)
                    else func.attr
                    if isinstance(func, ast.Attribute)
                    else ""
                )
                arguments: list[ast.expr] = []
                if name in ERROR_CLASSES:
                    position = 2 if name == "RateLimited" else 1
                    arguments += node.args[position : position + 1]
                    arguments += [k.value for k in node.keywords if k.arg == "code"]
                elif name == "error_response":
                    arguments += node.args[1:2]
                elif name == "ProtocolError":
                    arguments += node.args[:1]
                for argument in arguments:
                    assert not isinstance(argument, ast.JoinedStr), (
                        f"{path}:{argument.lineno}: an error code built at runtime can't be "
                        "documented; use a fixed string"
                    )
                    add(_string(argument), path)
    return found


def test_error_code_scan_finds_codes() -> None:
    """Guards the next test from passing vacuously: codes of every kind are found."""
    codes = error_codes()
    for code in (
        "invalid_coordinate",  # Invalid(..., code)
        "readonly",  # Forbidden(..., code)
        "malformed_json",  # error_response(400, code, ...)
        "too_large",  # class attribute and ProtocolError
        "method_not_allowed",  # _HTTP_CODES
        "internal_error",
        "rate_limited",
    ):
        assert code in codes, code
    assert len(codes) >= 35


def test_every_error_code_is_documented(api_doc: str) -> None:
    table = {
        row.split("|")[1].strip().strip("`")
        for row in api_doc.splitlines()
        if row.startswith("| `")
    }
    missing = {code: sorted(paths) for code, paths in error_codes().items() if code not in table}
    assert not missing, "codes missing from the Errors table of docs/api.md: " + repr(missing)


def test_documented_error_codes_exist(api_doc: str) -> None:
    """No stale rows: every code in the Errors table is still made somewhere."""
    section = api_doc.split("## Errors", 1)[1]
    documented = {
        match.group(1) for match in re.finditer(r"^\| `([a-z_]+)` \|", section, re.MULTILINE)
    }
    stale = documented - set(error_codes())
    assert not stale, f"docs/api.md documents codes nothing uses: {sorted(stale)}"


def test_every_route_is_documented(api_doc: str) -> None:
    """Routes as the app's own OpenAPI document lists them."""
    schema = create_app(Settings()).openapi()
    routes = [
        (method.upper(), path.removeprefix(API_PREFIX))
        for path, operations in schema["paths"].items()
        if path.startswith(API_PREFIX)
        for method in operations
    ]
    assert len(routes) >= 10
    missing = [f"{m} {p}" for m, p in routes if f"`{m} {p}" not in api_doc]
    assert not missing, f"routes missing from docs/api.md: {missing}"


def test_every_limit_is_documented(api_doc: str) -> None:
    names = [name for name in vars(limits) if name.isupper()]
    assert "MAX_COMMENT" in names
    missing = [name for name in names if f"`{name}`" not in api_doc]
    assert not missing, f"limits missing from docs/api.md: {missing}"


# --------------------------------------------------------------------------------------------
# The SSO example works
# --------------------------------------------------------------------------------------------


def test_sso_example_makes_a_payload_the_server_accepts(api_doc: str) -> None:
    blocks = re.findall(r"```python\n(.*?)```", api_doc, re.DOTALL)
    example = next(block for block in blocks if "def imagechat_sso" in block)
    namespace: dict[str, object] = {}
    exec(compile(example, "docs/api.md", "exec"), namespace)
    make = namespace["imagechat_sso"]
    payload = make("tenant-secret", {"id": "42", "username": "grace", "isAdmin": True})  # type: ignore[operator]
    parsed = sso.SsoPayload(
        payload["userDataJSONBase64"], payload["verificationHash"], payload["timestamp"]
    )
    user = sso.verify("tenant-secret", parsed, payload["timestamp"])
    assert (user.id, user.name, user.role) == ("sso:42", "grace", "admin")
    with pytest.raises(Exception, match="does not match"):
        sso.verify("another-secret", parsed, payload["timestamp"])
