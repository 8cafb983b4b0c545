"""requirements.lock against pyproject.toml: scripts/bootstrap installs the lock, then the
project with ``--no-deps``, so a dependency added to or tightened in pyproject.toml without
``make lock`` would silently be missing or at the wrong version."""

from __future__ import annotations

import re
import tomllib
from itertools import takewhile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements.lock"
EXTRAS = ("worker", "dev")
# 'name==version', then pip-compile's '# via' comments on the following lines
PIN = re.compile(r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+)")


# The one platform the lock is resolved for (scripts/lock): a dependency whose marker
# excludes it need not be pinned.
LOCK_ENV = {
    "python_version": "3.11",
    "python_full_version": "3.11.0",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "os_name": "posix",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
}


def declared() -> list[Requirement]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        project = tomllib.load(f)["project"]
    reqs = list(project["dependencies"])
    for extra in EXTRAS:
        reqs += project["optional-dependencies"][extra]
    parsed = [Requirement(r) for r in reqs]
    return [r for r in parsed if r.marker is None or r.marker.evaluate(LOCK_ENV)]


def pins() -> dict[str, Version]:
    out: dict[str, Version] = {}
    for n, raw in enumerate(LOCK.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = PIN.fullmatch(line)
        assert m, f"requirements.lock:{n}: not an exact 'name==version' pin: {raw!r}"
        name = canonicalize_name(m["name"])
        assert name not in out, f"requirements.lock:{n}: {name} pinned twice"
        out[name] = Version(m["version"])
    return out


def test_lock_is_exact_pins_with_regeneration_note() -> None:
    locked = pins()
    assert locked, "requirements.lock pins nothing"
    lines = LOCK.read_text().splitlines()
    header = "\n".join(takewhile(lambda line: line.startswith("#"), lines))
    assert "make lock" in header, "the header must say how to regenerate the lock"


@pytest.mark.parametrize("req", declared(), ids=str)
def test_pyproject_dependency_is_locked(req: Requirement) -> None:
    locked = pins()
    name = canonicalize_name(req.name)
    fix = "run `make lock` after editing pyproject.toml's dependencies"
    assert name in locked, f"{req} is not in requirements.lock; {fix}"
    assert req.specifier.contains(locked[name], prereleases=True), (
        f"requirements.lock pins {name}=={locked[name]}, outside {req}; {fix}"
    )


def test_torch_pin_has_no_local_label() -> None:
    # `torch==2.13.0`, not `+cpu`: pip then takes the CPU wheel where pip's config offers
    # it and keeps a CUDA build of the same version installed first on a GPU host.
    torch = pins()["torch"]
    assert torch.local is None, f"torch=={torch}: strip the local label (scripts/lock does)"
