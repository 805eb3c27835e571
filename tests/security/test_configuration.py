"""A bad IMAGECHAT_* value or flag ends `imagechat` with one line naming it and what it
wants, exit status 2, and no traceback; the server never starts half-configured."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from imagechat.settings import ConfigError, Settings

REPO = Path(__file__).resolve().parents[2]


def run(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The real command in a subprocess: the exit status and stderr a shell sees."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("IMAGECHAT_")}
    environ["PYTHONPATH"] = str(REPO / "src")
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-m", "imagechat", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env=environ,
        check=False,
    )


def imagechat(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """cli.main in this process (a subprocess costs seconds of imports per case): stderr and
    the exit status, with the environment replaced as a shell would."""
    import contextlib
    import io

    from imagechat import cli

    saved = dict(os.environ)
    err, out = io.StringIO(), io.StringIO()
    code: object = 0
    try:
        for key in [k for k in os.environ if k.startswith("IMAGECHAT_")]:
            del os.environ[key]
        os.environ.update(env)
        previous = Path.cwd()
        os.chdir(cwd)
        try:
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
                cli.main(list(args))
        except SystemExit as exit_:
            code = exit_.code
        finally:
            os.chdir(previous)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


def refused_in_one_line(done: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("imagechat"), lines
    assert "Traceback" not in done.stderr and done.stdout == ""
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


BAD_ENVIRONMENT = [
    ({"IMAGECHAT_PORT": "abc"}, ["IMAGECHAT_PORT", "whole number", "'abc'"]),
    ({"IMAGECHAT_PORT": "70000"}, ["IMAGECHAT_PORT", "0..65535"]),
    ({"IMAGECHAT_PORT": "-1"}, ["IMAGECHAT_PORT", "0 or more"]),
    ({"IMAGECHAT_DEMO": "maybe"}, ["IMAGECHAT_DEMO", "yes/no"]),
    ({"IMAGECHAT_WRITE_RATE": "fast"}, ["IMAGECHAT_WRITE_RATE", "a number"]),
    ({"IMAGECHAT_WRITE_RATE": "nan"}, ["IMAGECHAT_WRITE_RATE", "finite"]),
    ({"IMAGECHAT_BATCH_WINDOW_MS": "500"}, ["IMAGECHAT_BATCH_WINDOW_MS", "0..50"]),
    ({"IMAGECHAT_QUEUE_LIMIT": "0"}, ["IMAGECHAT_QUEUE_LIMIT", "1 or more"]),
    ({"IMAGECHAT_GAP_CHECK_SECONDS": "0"}, ["IMAGECHAT_GAP_CHECK_SECONDS", "more than 0"]),
    ({"IMAGECHAT_SSL_CERTFILE": "cert.pem"}, ["SSL_KEYFILE", "both"]),
    ({"IMAGECHAT_LOG_LEVEL": "loud"}, ["IMAGECHAT_LOG_LEVEL", "info"]),
    ({"IMAGECHAT_DATABASE_URL": "nosuchdb://x"}, ["IMAGECHAT_DATABASE_URL", "database URL"]),
    ({"IMAGECHAT_BROKER_URL": "kafka://x"}, ["IMAGECHAT_BROKER_URL", "memory://"]),
]


@pytest.mark.parametrize(
    ("env", "needles"), BAD_ENVIRONMENT, ids=[next(iter(e)) for e, _ in BAD_ENVIRONMENT]
)
def test_bad_variable_for_serve(tmp_path: Path, env: dict[str, str], needles: list[str]) -> None:
    refused_in_one_line(imagechat("serve", cwd=tmp_path, **env), *needles)


BAD_FLAGS = [
    (["--port", "abc"], ["--port", "'abc'"]),
    (["--port", "70000"], ["--port", "0..65535"]),
    (["--nonsense"], ["--nonsense"]),
    (["--log-level", "loud"], ["--log-level", "loud"]),
    (["--ssl-certfile", "missing.pem", "--ssl-keyfile", "missing.key"], ["--ssl-certfile"]),
    (["--ssl-keyfile", "k.pem"], ["--ssl-certfile", "both"]),
    (["--database-url", "nosuchdb://x"], ["--database-url"]),
    (["--broker-url", "kafka://x"], ["--broker-url"]),
]


@pytest.mark.parametrize(("flags", "needles"), BAD_FLAGS, ids=[" ".join(f) for f, _ in BAD_FLAGS])
def test_bad_flag_for_serve(tmp_path: Path, flags: list[str], needles: list[str]) -> None:
    refused_in_one_line(imagechat("serve", *flags, cwd=tmp_path), *needles)


def test_the_flag_is_named_when_it_was_the_flag(tmp_path: Path) -> None:
    done = imagechat("serve", "--port", "99999", cwd=tmp_path, IMAGECHAT_PORT="8000")
    refused_in_one_line(done, "--port")
    assert "IMAGECHAT_PORT" not in done.stderr


def test_other_commands_refuse_bad_configuration_too(tmp_path: Path) -> None:
    refused_in_one_line(imagechat("tenant", "list", cwd=tmp_path, IMAGECHAT_DEMO="maybe"))
    refused_in_one_line(imagechat("migrate", "--database-url", "nosuchdb://", cwd=tmp_path))
    refused_in_one_line(imagechat("tenant", "create", cwd=tmp_path), "ID")
    refused_in_one_line(imagechat("trim-history", "--keep", "many", cwd=tmp_path), "--keep")
    refused_in_one_line(imagechat("frobnicate", cwd=tmp_path), "frobnicate")


def test_a_real_process_exits_2_with_one_line(tmp_path: Path) -> None:
    refused_in_one_line(run("serve", cwd=tmp_path, IMAGECHAT_PORT="abc"), "IMAGECHAT_PORT")
    refused_in_one_line(run("serve", "--port", "abc", cwd=tmp_path), "--port")


def test_settings_raise_config_errors_that_name_the_variable() -> None:
    with pytest.raises(ConfigError, match="IMAGECHAT_PORT wants a whole number, not 'abc'"):
        Settings.from_env({"IMAGECHAT_PORT": "abc"})
    with pytest.raises(ConfigError, match="IMAGECHAT_PING_INTERVAL"):
        Settings(ping_interval=float("inf"))
    for text, expected in (("1", True), ("YES", True), ("off", False), ("", False)):
        assert Settings.from_env({"IMAGECHAT_DEMO": text}).demo is expected
    assert Settings.from_env({"IMAGECHAT_SSL_CERTFILE": ""}).ssl_certfile is None
