"""`satyamark kb check` as a real process, on files the test writes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _write(path: Path, claims: list[tuple[str, str]]) -> None:
    path.write_text(
        "".join(
            json.dumps(
                {
                    "claim": claim,
                    "verdict": verdict,
                    "explanation": "Because.",
                    "source_url": f"https://example.org/{i}",
                    "domain": path.stem,
                }
            )
            + "\n"
            for i, (claim, verdict) in enumerate(claims)
        )
    )


def _check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "satyamark", "kb", "check", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_duplicates_and_contradictions_are_found_and_duplicates_fixed(tmp_path: Path) -> None:
    base = tmp_path / "base"
    base.mkdir()
    _write(
        base / "science.jsonl",
        [
            ("Water boils at 100 degrees Celsius at sea level.", "true"),
            ("Bats are blind.", "false"),
            ("The Sahara is the largest hot desert in the world.", "true"),
        ],
    )
    _write(
        base / "zoology.jsonl",
        [
            ("water boils at 100 degrees Celsius at sea level", "true"),  # the same claim
            ("At sea level, water boils at 100 degrees Celsius.", "true"),  # near-duplicate
            ("Bats are blind.", "true"),  # the same claim, the other verdict
            ("Bats are not blind.", "false"),  # contradicts "Bats are blind" (false)
            # A myth beside the fact it distorts is no contradiction.
            ("The Sahara is the largest desert in the world.", "false"),
        ],
    )
    found = _check(str(base))
    assert found.returncode == 1, found.stderr
    lines = found.stdout.splitlines()
    assert (
        f"{base / 'zoology.jsonl'}:1: duplicate: same claim as {base / 'science.jsonl'}:1" in lines
    )
    assert any(line.startswith(f"{base / 'zoology.jsonl'}:2: near-duplicate") for line in lines)
    assert any(line.startswith(f"{base / 'zoology.jsonl'}:3: duplicate") for line in lines)
    assert any(line.startswith(f"{base / 'zoology.jsonl'}:4: contradiction") for line in lines)
    assert not any("Sahara" in line for line in lines)
    assert "8 claims" not in found.stderr and "6 claims" in found.stderr

    fixed = _check("--fix", str(base))
    assert fixed.returncode == 1  # the contradiction is for a person to settle
    assert "dropped 3 duplicate lines" in fixed.stderr
    assert len((base / "zoology.jsonl").read_text().splitlines()) == 2

    (base / "zoology.jsonl").write_text(
        (base / "zoology.jsonl").read_text().replace("Bats are not blind.", "Owls hunt at night.")
    )
    clean = _check(str(base))
    assert clean.returncode == 0, clean.stdout
    assert "0 problems" in clean.stderr
