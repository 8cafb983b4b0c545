"""Every process logs one line per record to stdout: JSON by default, text on request."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from satyamark.infra import free_port
from shared.logs import log_format

ROOT = Path(__file__).resolve().parents[2]
_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

_SCRIPT = textwrap.dedent(
    """
    import asyncio, logging, sys
    from shared.logs import configure_logging, log_context
    configure_logging("gateway", "DEBUG", sys.argv[1] if len(sys.argv) > 1 else None)
    log = logging.getLogger("gateway.routes")
    log.info("outside any context")
    with log_context(taskId="task-1", userId="user-1"):
        log.info("queued %d", 3)
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            log.exception("handling failed")
        with log_context(traceId="trace-1"):
            log.debug("nested")
    log.warning("given as extra", extra={"taskId": "task-2", "color_message": "x"})

    async def one_task():
        with log_context(taskId="task-3"):
            await asyncio.sleep(0)
            logging.getLogger("worker.runner").info("in a task")

    asyncio.run(one_task())
    logging.getLogger("uvicorn.error").info("Application startup complete.")
    log.info("after every context")
    """
)


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _SCRIPT, *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


def _json_lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines()]


def _ours(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The script's records, without asyncio's DEBUG line about its selector."""
    return [r for r in records if r["logger"] != "asyncio"]


def test_json_lines_carry_the_fields_that_are_known() -> None:
    done = _run(env={"LOG_FORMAT": "json"})
    assert done.stderr == ""
    records = _json_lines(done.stdout)
    by_event = {r["event"]: r for r in _ours(records)}
    assert list(by_event) == [
        "outside any context",
        "queued 3",
        "handling failed",
        "nested",
        "given as extra",
        "in a task",
        "Application startup complete.",
        "after every context",
    ]
    for record in records:
        assert _TIME.match(record["time"]), record
        assert record["service"] == "gateway"
        assert record["level"] in ("DEBUG", "INFO", "WARNING", "ERROR")
        # only our fields: no library extra (uvicorn's color_message) is written
        assert set(record) <= {
            "time", "level", "service", "logger", "event",
            "taskId", "traceId", "userId", "exc_info",
        }  # fmt: skip
    outside = by_event["outside any context"]
    assert outside["logger"] == "gateway.routes" and outside["level"] == "INFO"
    assert not {"taskId", "traceId", "userId"} & outside.keys()
    assert by_event["queued 3"]["taskId"] == "task-1"
    assert by_event["queued 3"]["userId"] == "user-1"
    failed = by_event["handling failed"]
    assert failed["level"] == "ERROR" and failed["taskId"] == "task-1"
    assert "Traceback" in failed["exc_info"] and "RuntimeError: boom" in failed["exc_info"]
    nested = by_event["nested"]
    assert (nested["level"], nested["taskId"], nested["traceId"]) == ("DEBUG", "task-1", "trace-1")
    extra = by_event["given as extra"]
    assert extra["taskId"] == "task-2" and "userId" not in extra
    assert by_event["in a task"]["taskId"] == "task-3"
    uvicorn = by_event["Application startup complete."]
    assert uvicorn["logger"] == "uvicorn.error" and uvicorn["service"] == "gateway"
    assert not {"taskId", "traceId", "userId"} & by_event["after every context"].keys()


def test_json_is_the_default() -> None:
    env = {k: v for k, v in os.environ.items() if k != "LOG_FORMAT"}
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=60, check=True,
    )  # fmt: skip
    assert len(_ours(_json_lines(done.stdout))) == 8


def test_text_format_is_for_humans() -> None:
    done = _run(env={"LOG_FORMAT": "text"})
    lines = done.stdout.splitlines()
    first = next(line for line in lines if "queued 3" in line)
    with pytest.raises(json.JSONDecodeError):
        json.loads(first)
    assert re.match(
        r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO gateway\.routes queued 3 "
        r"\[taskId=task-1 userId=user-1\]$",
        first,
    ), first
    assert "Traceback" in done.stdout and "RuntimeError: boom" in done.stdout
    assert any(" INFO uvicorn.error Application startup complete." in line for line in lines)
    # the argument wins over the environment
    assert not _run("text", env={"LOG_FORMAT": "json"}).stdout.startswith("{")


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="LOG_FORMAT must be one of json, text"):
        log_format("xml")
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT], cwd=ROOT, env={**os.environ, "LOG_FORMAT": "yaml"},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode != 0
    assert "LOG_FORMAT must be one of json, text" in done.stderr
    assert log_format(" JSON ") == "json"


def test_a_service_logs_uvicorns_start_and_stop_as_json() -> None:
    port = free_port()
    env = {
        **os.environ,
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        "RATELIMIT_PORT": str(port),
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "SATYAMARK_ENV": "development",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "ratelimit_service"], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        while not any("Application startup complete" in line for line in lines):
            assert time.monotonic() < deadline, lines
            line = proc.stdout.readline()
            assert line, f"ratelimit_service exited: {lines}"
            lines.append(line.rstrip("\n"))
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        lines += out.splitlines()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # uvicorn re-raises the signal it handled once it has shut down
    assert proc.returncode in (0, -signal.SIGTERM), (lines, err)
    assert err == "", err
    records = _json_lines("\n".join(lines))
    assert all(r["service"] == "ratelimit_service" for r in records)
    events = {r["event"]: r for r in records}
    assert events["Application startup complete."]["logger"] == "uvicorn.error"
    assert f"Uvicorn running on http://127.0.0.1:{port} (Press CTRL+C to quit)" in events
    assert any(event.startswith("Started server process") for event in events)
    assert any(event.startswith("Finished server process") for event in events)
    assert all(_TIME.match(r["time"]) and r["level"] == "INFO" for r in records)
