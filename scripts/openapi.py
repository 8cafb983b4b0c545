"""Print the gateway's OpenAPI document (JSON), as the running gateway serves it at
``/openapi.json``: the source of the TypeScript SDK's types (``sdk/ts/client``).

    .venv/bin/python scripts/openapi.py > sdk/ts/client/openapi.json

The app is built the way the tests build it (explicit settings, never the developer's
environment) and never started: the document depends on the routes, not on settings.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pydantic import SecretStr

# Run as a file (python scripts/openapi.py): the repository's packages are importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gateway.app import create_app
from gateway.config import GatewaySettings


def document() -> dict[str, object]:
    settings = GatewaySettings(
        env="test", internal_token=SecretStr("openapi-only-never-used-0123456789"), metrics_port=0
    )
    return create_app(settings).openapi()


def main() -> None:
    # Stable text: sorted keys would reorder paths, so keep FastAPI's order; indent for
    # readable diffs of the committed copy.
    sys.stdout.write(json.dumps(document(), indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
