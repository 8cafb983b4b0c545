"""The TypeScript SDK (``sdk/ts``): its own unit tests (vitest), the committed OpenAPI
document and the types generated from it kept current (drift fails here, not in a
user's build). The built ``@satyamark/client`` against the real running stack is
tests/e2e/test_ts_client.py.

Needs Node 20.19+ and the npm workspace installed (``npm ci`` at the repository root).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.sdk.node import CLIENT, REACT, ROOT, output, require_npx, run


@pytest.fixture(scope="module")
def npx() -> str:
    return require_npx()


# -- (a) the SDK's own unit tests ---------------------------------------------------------


@pytest.mark.parametrize("package", [CLIENT, REACT], ids=["client", "react"])
def test_vitest_suite_passes(npx: str, package: Path) -> None:
    result = run([npx, "--no-install", "vitest", "run"], package, 240)
    print(result.stdout, result.stderr, sep="\n")  # shown by pytest on failure (and -s)
    assert result.returncode == 0, output(result)
    assert " passed" in result.stdout, output(result)


@pytest.mark.parametrize("package", [CLIENT, REACT], ids=["client", "react"])
def test_typescript_typechecks(npx: str, package: Path) -> None:
    """Sources and tests: the event-typing tests (expectTypeOf) only bite under tsc."""
    result = run([npx, "--no-install", "tsc", "-p", str(package), "--noEmit"], ROOT, 240)
    assert result.returncode == 0, output(result)


# -- (b) the committed OpenAPI document and generated types are current -------------------


def test_committed_openapi_document_is_current() -> None:
    result = run([sys.executable, str(ROOT / "scripts" / "openapi.py")], ROOT, 120)
    assert result.returncode == 0, output(result)
    committed = (CLIENT / "openapi.json").read_text(encoding="utf-8")
    assert json.loads(result.stdout) == json.loads(committed), (
        "the gateway's API changed: run `.venv/bin/python scripts/openapi.py > "
        "sdk/ts/client/openapi.json && npm run gen -w sdk/ts/client` and commit both"
    )
    assert result.stdout == committed, "openapi.json is not as scripts/openapi.py prints it"


def test_generated_schema_is_current(npx: str, tmp_path: Path) -> None:
    fresh = tmp_path / "schema.ts"
    result = run(
        [npx, "--no-install", "openapi-typescript", "openapi.json", "--output", str(fresh)],
        CLIENT,
        120,
    )
    assert result.returncode == 0, output(result)
    committed = (CLIENT / "src" / "schema.ts").read_text(encoding="utf-8")
    assert fresh.read_text(encoding="utf-8") == committed, (
        "src/schema.ts is not what openapi.json generates: run `npm run gen -w sdk/ts/client`"
    )
