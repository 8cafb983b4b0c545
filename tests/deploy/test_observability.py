"""The observability deployment: Prometheus rules and config, Grafana, the OTel collector.

``promtool`` (Debian package ``prometheus``, installed by ``scripts/bootstrap --test``)
checks the rules, the scrape config and the dashboard's PromQL, and runs the alert unit
tests in deploy/observability/alerts_test.yml. Every query may only name metrics from the
contract the services export (METRICS below).
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from satyamark.devstack import DEFAULT_METRICS_PORTS
from tests.deploy.tools import COMPOSE, ROOT, load_yaml, run_tool, services

OBS = ROOT / "deploy" / "observability"
ALERTS = OBS / "alerts.yml"
ALERTS_TEST = OBS / "alerts_test.yml"
PROMETHEUS = OBS / "prometheus.yml"
OTEL = OBS / "otel-collector.yml"
DASHBOARD = OBS / "grafana" / "dashboards" / "satyamark.json"
DATASOURCES = OBS / "grafana" / "provisioning" / "datasources"
DASHBOARD_PROVIDERS = OBS / "grafana" / "provisioning" / "dashboards"

# The metric contract: what the services export, and nothing else.
COUNTERS = {
    "satyamark_http_requests_total",
    "satyamark_ratelimit_decisions_total",
    "satyamark_cache_lookups_total",
    "satyamark_tasks_total",
    "satyamark_worker_jobs_total",
    "satyamark_results_total",
    "satyamark_ws_pushes_total",
    "satyamark_ws_replays_total",
    "satyamark_ws_dropped_total",
    "satyamark_sweeper_requeued_total",
    "satyamark_sweeper_settled_total",
}
GAUGES = {
    "satyamark_queue_backlog",
    "satyamark_queue_pending",
    "satyamark_queue_oldest_pending_age_seconds",
    "satyamark_queue_dlq_length",
    "satyamark_queue_consumers",
    "satyamark_outbox_pending",
    "satyamark_outbox_oldest_age_seconds",
    "satyamark_ws_connections",
}
HISTOGRAMS = {
    "satyamark_http_request_duration_seconds",
    "satyamark_upstream_request_duration_seconds",
    "satyamark_worker_inference_seconds",
    "satyamark_worker_batch_size",
    "satyamark_worker_queue_wait_seconds",
    "satyamark_worker_callback_seconds",
    "satyamark_internal_batch_size",
}
# A classic histogram is only queryable through its three series.
METRICS = COUNTERS | GAUGES | {h + s for h in HISTOGRAMS for s in ("_bucket", "_sum", "_count")}
METRIC_RE = re.compile(r"satyamark_[a-z_]+")

# job (= compose service behind it) -> metrics port: the ports `satyamark run` uses
SCRAPE_PORTS = DEFAULT_METRICS_PORTS
OBSERVABILITY = {"prometheus", "grafana", "jaeger", "otel-collector"}
REQUIRED_ALERTS = {
    "SatyaMarkQueueOldestPendingTooOld",
    "SatyaMarkDeadLetterQueueGrowing",
    "SatyaMarkNoConsumers",
    "SatyaMarkGateway5xxRatioHigh",
    "SatyaMarkOutboxStale",
    "SatyaMarkTargetDown",
}
# Grafana's interval variables, replaced by a literal so promtool can parse the query.
GRAFANA_VARS = re.compile(r"\$__(rate_interval|interval|range)\b|\$\{__(rate_interval|interval)\}")


# ------------------------------------------------------------------ helpers


def run_promtool(promtool: str, *args: str, cwd: Path = OBS) -> subprocess.CompletedProcess[str]:
    return run_tool(promtool, *args, cwd=cwd)


def alert_rules() -> list[dict[str, Any]]:
    rules = [r for g in load_yaml(ALERTS)["groups"] for r in g["rules"]]
    assert all("alert" in r for r in rules), "alerts.yml is for alerting rules only"
    return rules


def dashboard() -> dict[str, Any]:
    data = json.loads(DASHBOARD.read_text())
    assert isinstance(data, dict)
    return data


def dashboard_targets() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(panel, target) for every query, rows' nested panels included."""
    found = []
    for panel in dashboard()["panels"]:
        for p in [panel, *panel.get("panels", [])]:
            for target in p.get("targets", []):
                found.append((p, target))
    return found


def compose_services() -> dict[str, dict[str, Any]]:
    return services(load_yaml(COMPOSE))


def bind_mounts(svc: dict[str, Any]) -> dict[str, Path]:
    """container path -> host path, for the ./relative bind mounts."""
    mounts = {}
    for vol in svc.get("volumes", []):
        parts = str(vol).split(":")
        if parts[0].startswith("./"):
            mounts[parts[1]] = (ROOT / parts[0]).resolve()
    return mounts


def unknown_metrics(text: str) -> set[str]:
    return set(METRIC_RE.findall(text)) - METRICS


# ------------------------------------------------------------------ promtool


def test_alert_rules_pass_promtool(promtool: str) -> None:
    proc = run_promtool(promtool, "check", "rules", str(ALERTS))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_prometheus_config_passes_promtool(promtool: str) -> None:
    # Also resolves rule_files (relative to the config) and checks them.
    proc = run_promtool(promtool, "check", "config", str(PROMETHEUS))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 rule files found" in proc.stdout, proc.stdout


def test_alert_unit_tests_pass(promtool: str) -> None:
    proc = run_promtool(promtool, "test", "rules", ALERTS_TEST.name)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS" in proc.stdout


def test_dashboard_queries_are_valid_promql(promtool: str, tmp_path: Path) -> None:
    # Each query becomes a recording rule, which `check rules` parses.
    rules = [
        {
            "record": f"dashboard:panel{panel['id']}_{target['refId'].lower()}",
            "expr": GRAFANA_VARS.sub("5m", target["expr"]),
        }
        for panel, target in dashboard_targets()
    ]
    assert rules
    path = tmp_path / "dashboard_rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    proc = run_promtool(promtool, "check", "rules", str(path), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# --------------------------------------------------------------------- alerts


def test_alerts_are_labelled_and_explained() -> None:
    rules = alert_rules()
    names = [r["alert"] for r in rules]
    assert len(names) == len(set(names)), "duplicate alert names"
    assert set(names) >= REQUIRED_ALERTS
    for rule in rules:
        name = rule["alert"]
        assert "for" in rule, f"{name}: state its `for` (0m if it must fire at once)"
        assert rule["labels"]["severity"] in ("critical", "warning"), name
        assert rule["annotations"]["summary"].strip(), name
        assert rule["annotations"]["description"].strip(), name


def test_every_alert_is_unit_tested_both_ways() -> None:
    tests = load_yaml(ALERTS_TEST)
    assert tests["rule_files"] == [ALERTS.name]
    fired: set[str] = set()
    quiet: set[str] = set()
    for case in tests["tests"]:
        for check in case.get("alert_rule_test", []):
            (fired if check.get("exp_alerts") else quiet).add(check["alertname"])
    names = {r["alert"] for r in alert_rules()}
    assert names - fired == set(), "alerts with no series that fires them"
    assert names - quiet == set(), "alerts with no series that must not fire them"
    assert (fired | quiet) <= names, "tests name alerts that do not exist"


def test_alerts_only_use_contract_metrics() -> None:
    for rule in alert_rules():
        text = rule["expr"] + "\n" + "\n".join(rule["annotations"].values())
        assert METRIC_RE.search(rule["expr"]) or "up{" in rule["expr"], rule["alert"]
        assert unknown_metrics(text) == set(), rule["alert"]


def test_alert_tests_only_feed_contract_metrics() -> None:
    for case in load_yaml(ALERTS_TEST)["tests"]:
        for series in case["input_series"]:
            name = series["series"].split("{", 1)[0]
            assert name == "up" or name in METRICS, name


# ------------------------------------------------------------------ dashboard


def test_dashboard_only_uses_contract_metrics() -> None:
    targets = dashboard_targets()
    assert targets
    for panel, target in targets:
        assert METRIC_RE.search(target["expr"]), panel["title"]
        assert unknown_metrics(target["expr"]) == set(), panel["title"]


def test_dashboard_has_the_required_panels() -> None:
    data = dashboard()
    assert data["uid"] and data["title"]
    exprs = [t["expr"] for _, t in dashboard_targets()]
    joined = "\n".join(exprs)

    def has(pattern: str) -> bool:
        return any(re.search(pattern, e) for e in exprs)

    for metric in (
        "satyamark_queue_backlog",
        "satyamark_queue_oldest_pending_age_seconds",
        "satyamark_ws_connections",
        "satyamark_queue_dlq_length",
        "satyamark_outbox_pending",
    ):
        assert metric in joined, metric
    assert has(r"sum by \(outcome\) \(rate\(satyamark_tasks_total\[")
    assert has(
        r"histogram_quantile\(0\.99, sum by \(service, le\) "
        r"\(rate\(satyamark_http_request_duration_seconds_bucket\["
    )
    assert has(
        r"histogram_quantile\(0\.99, sum by \(service, upstream, le\) "
        r"\(rate\(satyamark_upstream_request_duration_seconds_bucket\["
    )
    for q in ("0.5", "0.99"):
        assert has(
            rf"histogram_quantile\({re.escape(q)}, .*satyamark_worker_inference_seconds_bucket"
        ), q


def test_dashboard_panels_are_well_formed() -> None:
    ids = []
    for panel in dashboard()["panels"]:
        ids.append(panel["id"])
        assert {"h", "w", "x", "y"} <= set(panel["gridPos"]), panel["title"]
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24, panel["title"]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel, target in dashboard_targets():
        refs = [t["refId"] for t in panel["targets"]]
        assert len(refs) == len(set(refs)), panel["title"]
        assert target["expr"].strip(), panel["title"]


# ----------------------------------------------------------------- provisioning


def test_grafana_datasource_is_the_compose_prometheus() -> None:
    files = sorted(DATASOURCES.glob("*.yml"))
    assert files
    sources = [ds for f in files for ds in load_yaml(f)["datasources"]]
    prom = [ds for ds in sources if ds["type"] == "prometheus"]
    assert len(prom) == 1
    url = urlsplit(prom[0]["url"])
    assert url.hostname == "prometheus" and url.port == 9090
    assert "prometheus" in compose_services()
    # The dashboard names its datasource by uid.
    uids = {t["datasource"]["uid"] for _, t in dashboard_targets()}
    uids |= {p["datasource"]["uid"] for p, _ in dashboard_targets()}
    assert uids == {prom[0]["uid"]}


def test_grafana_loads_the_dashboard_from_its_mount() -> None:
    grafana = compose_services()["grafana"]
    mounts = bind_mounts(grafana)
    assert mounts["/etc/grafana/provisioning/datasources"] == DATASOURCES
    assert mounts["/etc/grafana/provisioning/dashboards"] == DASHBOARD_PROVIDERS
    providers = [p for f in DASHBOARD_PROVIDERS.glob("*.yml") for p in load_yaml(f)["providers"]]
    assert len(providers) == 1
    path = providers[0]["options"]["path"]
    assert mounts[path] == DASHBOARD.parent


def test_prometheus_mounts_its_config_next_to_the_rules() -> None:
    prom = compose_services()["prometheus"]
    mounts = bind_mounts(prom)
    inverse = {host: container for container, host in mounts.items()}
    config_at = Path(inverse[PROMETHEUS])
    assert f"--config.file={config_at}" in prom["command"]
    for rule_file in load_yaml(PROMETHEUS)["rule_files"]:
        assert mounts[str(config_at.parent / rule_file)] == (OBS / rule_file).resolve()


def test_scrape_config_covers_every_service() -> None:
    svcs = compose_services()
    jobs = {j["job_name"]: j for j in load_yaml(PROMETHEUS)["scrape_configs"]}
    assert set(jobs) - {"prometheus"} == set(SCRAPE_PORTS)
    hosts: set[str] = set()
    for job, port in SCRAPE_PORTS.items():
        cfg = jobs[job]
        assert cfg.get("metrics_path", "/metrics") == "/metrics", job
        addresses = [t for sc in cfg.get("static_configs", []) for t in sc["targets"]]
        for sd in cfg.get("dns_sd_configs", []):
            assert sd["port"] == port, job
            addresses += [f"{name}:{sd['port']}" for name in sd["names"]]
        assert addresses, job
        for address in addresses:
            host, _, target_port = address.rpartition(":")
            assert int(target_port) == port, address
            assert host in svcs, f"{job}: {host} is not a compose service"
            hosts.add(host)
    # Every instance and every replica (DNS answers a service name with all of them).
    assert {"ws_service_1", "ws_service_2", "worker", "worker-gpu"} <= hosts


# ------------------------------------------------------------ OTel collector


def test_otel_collector_receives_otlp_and_exports_to_jaeger() -> None:
    cfg = load_yaml(OTEL)
    protocols = cfg["receivers"]["otlp"]["protocols"]
    assert protocols["grpc"]["endpoint"] == "0.0.0.0:4317"
    assert protocols["http"]["endpoint"] == "0.0.0.0:4318"
    traces = cfg["service"]["pipelines"]["traces"]
    assert traces["receivers"] == ["otlp"]
    assert traces["processors"][-1] == "batch", "batch goes last, just before export"
    for kind in ("receivers", "processors", "exporters"):
        for name in traces[kind]:
            assert name in cfg[kind], f"{kind}: {name} used but not defined"
    (exporter,) = traces["exporters"]
    assert exporter.split("/")[0] == "otlp"
    target = cfg["exporters"][exporter]["endpoint"]
    host, _, port = target.rpartition(":")
    assert host == "jaeger" and port == "4317"
    assert "jaeger" in compose_services()


def test_otel_collector_mounts_its_config() -> None:
    svc = compose_services()["otel-collector"]
    (config_arg,) = [c for c in svc["command"] if str(c).startswith("--config=")]
    assert bind_mounts(svc)[config_arg.split("=", 1)[1]] == OTEL.resolve()


# ----------------------------------------------------------------- compose


def test_observability_services_are_opt_in() -> None:
    svcs = compose_services()
    for name, svc in svcs.items():
        if name in OBSERVABILITY:
            assert svc.get("profiles") == ["observability"], name
            assert "build" not in svc and svc.get("image"), name
            assert ":latest" not in svc["image"] and ":" in svc["image"], f"{name}: pin a tag"
            assert svc.get("restart") == "unless-stopped", name
            for host in bind_mounts(svc).values():
                assert host.exists(), f"{name}: {host} missing"
        else:
            assert "observability" not in (svc.get("profiles") or []), name


def test_observability_uis_listen_on_localhost_only() -> None:
    for name in OBSERVABILITY:
        for port in compose_services()[name].get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name}: {port}"


def test_the_contract_is_what_the_code_registers() -> None:
    """Every name the rules and dashboard may use is one shared/metrics.py defines."""
    from prometheus_client import REGISTRY

    from shared import metrics

    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}
    registered = {
        family.name + suffix
        for family in REGISTRY.collect()
        if family.name.startswith("satyamark_")
        for suffix in suffixes.get(family.type, ("",))
    }
    registered |= set(metrics.QUEUE_GAUGES)
    assert METRICS <= registered, sorted(METRICS - registered)
