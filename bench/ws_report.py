"""bench/ws.py's contract figures and its printed report."""

from __future__ import annotations

from typing import Any

TARGETS = {
    "sockets_per_process": (">=", 10_000, "sockets one ws_service holds"),
    "rss_kib_per_socket": ("<=", 40.0, "ws_service RSS KiB per socket"),
    "push_p99_ms": ("<=", 50.0, "push p99 ms"),
    "deliveries_per_s": (">=", 20_000, "deliveries/s"),
}


def summary(figures: dict[str, Any]) -> dict[str, Any]:
    """The contract's figures (the production path's; the dev path's when only it ran)."""
    paths = figures["paths"]
    name = next(p for p in ("prod", "edge", "dev") if p in paths)
    main = paths[name]
    return {
        "sockets_per_process": main["sockets"],
        "rss_kib_per_socket": main["rss_kib_per_socket"]["ws_service"],
        "push_p99_ms": main["push"]["p99_ms"],
        "deliveries_per_s": main["push"]["deliveries_per_s"],
        "path": name,
    }


def _verdict(value: float | None, op: str, goal: float) -> str:
    if value is None:
        return "n/a"
    return "PASS" if (value >= goal if op == ">=" else value <= goal) else "MISS"


def print_report(figures: dict[str, Any]) -> None:
    ws = figures["ws"]
    print()
    print(
        f"SatyaMark WebSocket benchmark — {figures['cpus']} CPU(s), {figures['sockets']} "
        f"sockets per path over {figures['users']} users, push target "
        f"{figures['rate']:g} deliveries/s for {figures['duration_s']:g}s, client deflate "
        f"{figures['deflate']}; everything shares this machine"
    )
    print(
        f"(machine busy before start: {figures['background_busy_pct_before_start']}% of one core)"
    )
    print()
    print(f"{'contract (' + ws['path'] + ' path)':<36}{'measured':>12}  target")
    for key, (op, goal, what) in TARGETS.items():
        value = ws[key]
        print(f"  {what:<34}{value!s:>12}  {op} {goal:g}  {_verdict(value, op, goal)}")
    for path, p in figures["paths"].items():
        print()
        print(f"{path} path ({p['url']}): {p['sockets']} sockets up in {p['open_s']}s")
        for name, before in p["rss_kib_before"].items():
            print(
                f"  {name:<12} RSS {before / 1024:7.1f} -> {p['rss_kib_after'][name] / 1024:7.1f}"
                f" MiB: {p['rss_kib_per_socket'][name]} KiB/socket (second half "
                f"{p['rss_kib_per_socket_marginal'][name]}); after pushes "
                f"{p['rss_kib_after_pushes'][name] / 1024:.1f} MiB, after close "
                f"{p['rss_kib_after_close'][name] / 1024:.1f} MiB"
            )
        kernel = p["kernel_kib_per_socket_machine"]
        print(f"  kernel, whole machine (both ends of each connection): {kernel} KiB/socket")
        rows = [("pushes", p["push"])]
        if "slow" in p:
            rows.append(("+ flood, reading", p["control"]["others"]))
            rows.append(("+ flood, never reads", p["slow"]["others"]))
        print(
            f"  {'phase':<22}{'deliv/s':>9}{'target':>8}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
            f"{'lost':>7}{'pub p99':>9}  cpu % of one core"
        )
        for label, s in rows:
            cpu = ", ".join(f"{k} {v}" for k, v in s["cpu_pct"].items())
            print(
                f"  {label:<22}{s['deliveries_per_s']:>9g}{s['target_deliveries_per_s']:>8g}"
                f"{s['p50_ms']!s:>9}{s['p99_ms']!s:>9}{s['max_ms']!s:>9}{s['lost']:>7}"
                f"{s['publish_call_p99_ms']!s:>9}  {cpu}"
            )
        for label, s in rows:
            peak = ", ".join(f"{k} {v / 1024:.1f}" for k, v in s["peak_kib"].items())
            print(f"  {label:<22}peak MiB: {peak}")
        if "slow" in p:
            c = p["control"]
            print(
                f"  flooded socket that reads: {c['flooded_received']} of "
                f"{c['flood_publishes']} events, p99 {c['flooded_p99_ms']} ms"
            )
            s = p["slow"]
            print(
                f"  slow reader: {s['flood_publishes']} events of ~{s['flood_event_bytes']} B "
                f"flooded; unregistered after {s['unregistered_after_s']}s; afterwards it "
                f"read {s['frames_read_after']} frames, close frame {s['close_code']} "
                f"{s['close_reason']!r}, stream ended: {s['stream_ended']}"
            )
    print(f"\nedge (nginx): {figures['edge']}")
    print()
