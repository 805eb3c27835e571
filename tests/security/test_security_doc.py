"""docs/security.md maps each promise to the test that proves it: every test it names exists."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "security.md"
SOURCE = REPO / "src" / "imagechat"


def test_every_test_the_security_doc_names_exists() -> None:
    text = DOC.read_text()
    named = re.findall(
        r"`((?:unit|integration|security|fuzz|live|browser)/[\w/]+\.py)((?:::\w+)?)`", text
    )
    assert len(named) > 25
    for path, test in named:
        file = REPO / "tests" / path
        assert file.is_file(), path
        if test:
            assert re.search(rf"def {test[2:]}\b", file.read_text()), f"{path}{test}"
    # `::name` cells that continue the file named before them in a row.
    for test in re.findall(r", `::(\w+)`", text):
        found = any(
            re.search(rf"def {test}\b", f.read_text()) for f in (REPO / "tests").rglob("test_*.py")
        )
        assert found, test


def test_every_source_path_the_security_doc_names_exists() -> None:
    for path in re.findall(
        r"`((?:domain|web|realtime|storage)/[\w/]+\.py|settings\.py|cli\.py)`", DOC.read_text()
    ):
        assert (SOURCE / path).is_file(), path
