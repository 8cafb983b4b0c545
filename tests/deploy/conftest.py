"""The command-line tools that check the deployment files."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from typing import NoReturn

import pytest

# Without it the compose file cannot be checked at all: a failure.
NO_COMPOSE = (
    "docker-compose (v1, Debian package `docker-compose`) is not installed; it "
    "validates docker-compose.yml without a Docker daemon. Install it with "
    "`apt-get update && apt-get install -y docker-compose` (scripts/bootstrap "
    "does this)."
)
# Only the promtool checks need it: a skip.
NO_PROMTOOL = (
    "promtool is not installed (Debian package `prometheus`; "
    "`scripts/bootstrap --test` installs it)"
)


def _tool(name: str, missing: Callable[[str], NoReturn], why: str) -> str:
    found = shutil.which(name)
    if not found:
        missing(why)
    return found


@pytest.fixture(scope="module")
def compose_bin() -> str:
    return _tool("docker-compose", pytest.fail, NO_COMPOSE)


@pytest.fixture(scope="module")
def promtool() -> str:
    return _tool("promtool", pytest.skip, NO_PROMTOOL)
