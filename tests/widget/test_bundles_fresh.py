"""The committed widget bundles are what widget/build.mjs makes from widget/src today."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "src/imagechat/web/static/widget"
BUNDLES = ("imagechat.js", "imagechat.mjs")


def missing_service(reason: str) -> NoReturn:
    """Skip without the tooling, or fail when the run requires everything (as CI does)."""
    if os.environ.get("IMAGECHAT_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (IMAGECHAT_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(reason)


def test_committed_bundles_are_fresh(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        missing_service("node is not installed (Debian's nodejs package)")
    if not (ROOT / "node_modules/esbuild").is_dir():
        missing_service("node_modules/ is missing: run `npm ci` (esbuild builds the bundles)")
    built = subprocess.run(
        [node, str(ROOT / "widget/build.mjs"), str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert built.returncode == 0, built.stderr
    stale = [
        name for name in BUNDLES if (tmp_path / name).read_bytes() != (STATIC / name).read_bytes()
    ]
    assert not stale, (
        f"{', '.join(stale)} differ from a fresh build of widget/src: run `npm run build` "
        "and commit the result"
    )
