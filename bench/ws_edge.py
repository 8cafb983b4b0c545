"""The edge path of bench/ws.py: the production nginx config in front of the stack."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

from bench.procstat import process_tree
from satyamark.devstack import Stack
from satyamark.infra import free_port, port_answers

ROOT = Path(__file__).resolve().parents[1]
EDGE_CONF = ROOT / "deploy" / "edge" / "nginx.conf.template"
NGINX = "/usr/sbin/nginx"


class Edge:
    """nginx with deploy/edge/nginx.conf.template (rendered as tests/e2e/test_edge.py
    does) in front of this stack's gateway and its ws_service ``ws``."""

    def __init__(self, stack: Stack, root: Path, ws: str) -> None:
        root.mkdir(parents=True, exist_ok=True)
        root.chmod(0o755)  # run as root, the workers are `nobody`
        self.port = free_port()
        values = {
            "EDGE_LISTEN": f"127.0.0.1:{self.port}",
            "EDGE_GATEWAY_SERVERS": f"server 127.0.0.1:{stack.components['gateway'].port};",
            "EDGE_WS_SERVERS": f"server 127.0.0.1:{stack.components[ws].port};",
            "EDGE_ACCESS_LOG": str(root / "access.log"),
            "EDGE_TEMP_DIR": str(root),
        }
        conf = root / "nginx.conf"
        text = re.sub(r"\$\{(EDGE_\w+)\}", lambda m: values[m.group(1)], EDGE_CONF.read_text())
        conf.write_text(text)
        main = f"daemon off; pid {root / 'nginx.pid'}; error_log {root / 'error.log'} notice;"
        self.proc = subprocess.Popen(
            [NGINX, "-p", str(root), "-c", str(conf), "-g", main],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 15
        while not port_answers("127.0.0.1", self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"nginx did not start: {(root / 'error.log').read_text()}")
            time.sleep(0.1)
        time.sleep(0.5)  # the workers

    @property
    def pids(self) -> list[int]:
        return process_tree(self.proc.pid)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def edge_missing() -> str | None:
    """Why the edge path cannot run here (None: it can)."""
    if not EDGE_CONF.exists():
        return f"{EDGE_CONF.relative_to(ROOT)} does not exist"
    if not Path(NGINX).exists():
        return f"{NGINX} is not installed"
    return None
