"""Reading py-spy's raw (collapsed) profile of one of our workers (``--profile``)."""

from __future__ import annotations

import collections
from pathlib import Path

IDLE_LEAVES = ("EpollSelector.select (", "_worker (concurrent/futures/thread.py:81)")
# Inclusive cost centres of the per-job path: (label, frame substring).
CENTRES = [
    ("callback POST (CallbackSender._post)", "CallbackSender._post (worker/callback.py"),
    ("  aiohttp ClientSession._request", "ClientSession._request (aiohttp/"),
    ("  signing (shared.signing.sign)", "sign (shared/signing.py"),
    ("  ULID per delivery", "ULID.__init__"),
    ("result_for (build CallbackResult)", "result_for (worker/callback.py"),
    ("store results (JobQueue.store_results)", "JobQueue.store_results (worker/queue.py"),
    ("  body: model_dump_json", "model_dump_json (pydantic"),
    ("ack: XACK+XDEL+DEL pipeline (JobQueue.ack)", "JobQueue.ack (worker/queue.py"),
    ("read: XREADGROUP (JobQueue.read_new)", "JobQueue.read_new (worker/queue.py"),
    ("admit: parse_job (pydantic Job)", "parse_job (worker/types.py"),
    ("lease refresh (refresh_lease.lua)", "JobQueue.refresh_lease"),
    ("claim stale (XAUTOCLAIM)", "JobQueue.claim_stale"),
    ("judge hand-off (run_in_executor)", "run_in_executor"),
    ("check_input (regex)", "check_input (worker/input_check.py"),
    ("task per entry (_spawn/create_task)", "_spawn (worker/attempts.py"),
    ("next_batch", "next_batch (worker/flow.py"),
]


def summarize_profile(path: str, top: int = 15) -> str:
    """Self and inclusive time from py-spy's raw (collapsed) output, idle samples dropped."""
    self_c: collections.Counter[str] = collections.Counter()
    incl: collections.Counter[str] = collections.Counter()
    area: collections.Counter[str] = collections.Counter()
    total = idle = 0
    text = Path(path).read_bytes().decode("utf-8", "replace")
    for line in text.splitlines():
        stack, _, count_s = line.rpartition(" ")
        if not stack or not count_s.isdigit():
            continue
        count = int(count_s)
        frames = stack.split(";")
        if frames[-1].startswith(IDLE_LEAVES):
            idle += count
            continue
        total += count
        self_c[frames[-1]] += count
        for label, needle in CENTRES:
            if any(needle in f for f in frames):
                incl[label] += count
        leaf = frames[-1]
        for key in ("redis/", "httpx_aiohttp/", "httpx/", "aiohttp/", "pydantic", "ulid/",
                    "asyncio/", "(worker/", "(shared/", "re/", "logging/"):  # fmt: skip
            if key in leaf:
                area[key.strip("(/")] += count
                break
        else:
            area["other (stdlib/C)"] += count
    if not total:
        return "py-spy: no samples"
    lines = [f"py-spy: {total} busy samples of one worker ({idle} idle dropped), 250 Hz",
             "  inclusive share of busy samples, per-job cost centres:"]  # fmt: skip
    lines += [f"    {incl[label] / total:6.1%}  {label}" for label, _ in CENTRES if incl[label]]
    lines.append("  self time by package of the leaf frame:")
    lines += [f"    {v / total:6.1%}  {k}" for k, v in area.most_common()]
    lines.append("  top self frames:")
    lines += [f"    {v / total:6.1%}  {k}" for k, v in self_c.most_common(top)]
    return "\n".join(lines)
