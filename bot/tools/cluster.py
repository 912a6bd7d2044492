"""Two instances of every process behind HAProxy, on one machine: the scale-out setup of
docs/deploy.md, for the live tests (tests/test_scale_out_live.py) and `make bench`.

Two action servers, two Rasa servers and two gateways share the databases and Redis of the
settings given; HAProxy (deploy/haproxy.cfg) balances citizens and staff over the gateways,
the gateways over the Rasa servers and the Rasa servers over the action servers. Every
process listens on ``settings.host`` on a free port, HAProxy included, and each runs in its
own process group, so that a test can SIGKILL one instance like a crash would.

    with Cluster(settings, work_dir) as cluster:
        httpx.post(f"{cluster.url}/api/chat", json=...)

The databases must already be migrated (``runner.prepare_database``), and for a real
multi-instance setup they are PostgreSQL and ``settings.redis_url`` is set: with SQLite and
no Redis the instances would each lock and publish only for themselves.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import signal
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import httpx

from bot.core.config import PROJECT_ROOT, Settings, env_name
from bot.tools.runner import Stack

HAPROXY_CONFIG = PROJECT_ROOT / "deploy" / "haproxy.cfg"
INSTANCES = 2  # deploy/haproxy.cfg names two servers per backend
# HAProxy backend -> the Stack process behind it, and the server name prefix in the config.
BACKENDS = {
    "gateways": ("gateway", "gw"),
    "rasa": ("rasa", "rasa"),
    "actions": ("actions", "actions"),
}


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def settings_env(settings: Settings) -> dict[str, str]:
    """Every setting as its BORGER_* variable, so a child process gets exactly these settings
    whatever the parent's environment says."""
    env: dict[str, str] = {}
    for name, value in settings.model_dump().items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, tuple | list):
            text = " ".join(str(item) for item in value)
        else:
            text = str(value)
        env[env_name(name)] = text
    return env


@dataclass
class Node(Stack):
    """One instance of the three processes, started with its own complete settings."""

    def _env(self) -> dict[str, str]:
        env = super()._env()
        env.update(settings_env(self.settings))
        return env


@dataclass
class LoadBalancer:
    """HAProxy in the foreground (-db), a child of this process."""

    env: dict[str, str]
    socket_path: Path
    log_path: Path
    binary: str = "haproxy"
    process: subprocess.Popen | None = None
    _log: IO[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which(self.binary) or shutil.which("haproxy", path="/usr/sbin:/usr/bin")
        if binary is None:
            raise RuntimeError("haproxy not found (Debian: apt-get install haproxy)")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [binary, "-db", "-f", str(HAPROXY_CONFIG)],
            env={**os.environ, **self.env}, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while not self.socket_path.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"haproxy did not start:\n{self.log()}")
            time.sleep(0.05)

    def command(self, line: str) -> str:
        """One command on HAProxy's runtime API (e.g. "set server rasa/rasa1 state maint")."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(10)
            sock.connect(str(self.socket_path))
            sock.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def servers(self) -> dict[str, dict[str, str]]:
        """"backend/server" -> HAProxy's statistics row (status UP/DOWN/MAINT, stot, ...)."""
        text = self.command("show stat").lstrip("# ")
        rows = csv.DictReader(io.StringIO(text))
        return {
            f"{row['pxname']}/{row['svname']}": row
            for row in rows
            if row["svname"] not in ("FRONTEND", "BACKEND")
        }

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None


@dataclass
class Cluster:
    """Two nodes and HAProxy; ``settings`` holds what the nodes share (databases, Redis, the
    Rasa token, limits). Ports, URLs and var dirs are the cluster's own."""

    settings: Settings
    work_dir: Path
    haproxy: str = "haproxy"
    nodes: list[Node] = field(default_factory=list)
    balancer: LoadBalancer | None = None
    public_port: int = 0
    rasa_lb_port: int = 0
    actions_lb_port: int = 0

    def __post_init__(self) -> None:
        host = self.settings.host
        self.public_port, self.rasa_lb_port, self.actions_lb_port = (
            free_port(host), free_port(host), free_port(host)
        )
        shared = {
            "rasa_url": f"http://{host}:{self.rasa_lb_port}",
            "actions_url": f"http://{host}:{self.actions_lb_port}",
            # Behind the balancer a gateway's head start lands on either action server, and
            # Rasa's action call on either: half of them would be work thrown away.
            "prefetch_answers": False,
            # The gateways believe HAProxy's X-Forwarded-For, nobody else's.
            "trusted_proxies": (*self.settings.trusted_proxies, host),
        }
        for index in range(1, INSTANCES + 1):
            var_dir = self.work_dir / f"node{index}"
            settings = self.settings.model_copy(update={
                **shared,
                "var_dir": var_dir,
                "gateway_port": free_port(host),
                "rasa_port": free_port(host),
                "actions_port": free_port(host),
            })
            self.nodes.append(Node(settings, log_dir=var_dir / "logs"))
        env = {
            "LB_PUBLIC": f"{host}:{self.public_port}",
            "LB_RASA": f"{host}:{self.rasa_lb_port}",
            "LB_ACTIONS": f"{host}:{self.actions_lb_port}",
            "LB_SOCKET": str(self.work_dir / "haproxy.sock"),
        }
        for index, node in enumerate(self.nodes, start=1):
            s = node.settings
            env[f"GATEWAY_{index}"] = f"{host}:{s.gateway_port}"
            env[f"RASA_{index}"] = f"{host}:{s.rasa_port}"
            env[f"ACTIONS_{index}"] = f"{host}:{s.actions_port}"
        self.balancer = LoadBalancer(
            env, self.work_dir / "haproxy.sock", self.work_dir / "haproxy.log", self.haproxy
        )

    # --- addresses ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Where citizens and staff go: HAProxy's public frontend."""
        return f"http://{self.settings.host}:{self.public_port}"

    @property
    def rasa_url(self) -> str:
        return f"http://{self.settings.host}:{self.rasa_lb_port}"

    def gateway_url(self, index: int) -> str:
        """One gateway directly (index 1 or 2), bypassing HAProxy."""
        return f"http://{self.settings.host}:{self.nodes[index - 1].settings.gateway_port}"

    def rasa_direct_url(self, index: int) -> str:
        return f"http://{self.settings.host}:{self.nodes[index - 1].settings.rasa_port}"

    @staticmethod
    def server(backend: str, index: int) -> str:
        """HAProxy's name of instance ``index`` in ``backend``, e.g. "rasa/rasa2"."""
        return f"{backend}/{BACKENDS[backend][1]}{index}"

    # --- running --------------------------------------------------------------------------

    def start(self, timeout: float = 300) -> float:
        """Start HAProxy and all six processes (the two Rasa servers load in parallel); wait
        until HAProxy sees every instance up. Returns the seconds it took."""
        started = time.monotonic()
        assert self.balancer is not None
        self.balancer.start()
        for node in self.nodes:
            node.start()
        self.wait_all_up(timeout)
        return time.monotonic() - started

    def wait_all_up(self, timeout: float = 300) -> None:
        assert self.balancer is not None
        deadline = time.monotonic() + timeout
        while True:
            for index, node in enumerate(self.nodes, start=1):
                for name, process in node.processes.items():
                    if process.poll() is not None:
                        raise RuntimeError(f"{name} {index} exited with {process.returncode}")
            # The unchecked fail-open backups (deploy/haproxy.cfg) say "no check".
            states = {
                name: row["status"]
                for name, row in self.balancer.servers().items()
                if row["status"] != "no check"
            }
            if states and all(status == "UP" for status in states.values()):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"not all instances up after {timeout:.0f} s: {states}")
            time.sleep(0.5)

    def wait_state(self, backend: str, index: int, status: str, timeout: float = 120) -> None:
        """Until HAProxy reports the server ``status`` ("UP", "DOWN", "MAINT", ...)."""
        assert self.balancer is not None
        name = self.server(backend, index)
        deadline = time.monotonic() + timeout
        while (seen := self.balancer.servers()[name]["status"]) != status:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} is {seen}, not {status}, after {timeout:.0f} s")
            time.sleep(0.25)

    def set_state(self, backend: str, index: int, state: str) -> None:
        """Take an instance out ("maint", or "drain": only requests already under way) or put
        it back ("ready") through HAProxy's runtime API."""
        assert self.balancer is not None
        answer = self.balancer.command(f"set server {self.server(backend, index)} state {state}")
        if answer.strip():
            raise RuntimeError(f"haproxy refused: {answer.strip()}")

    def kill(self, backend: str, index: int) -> None:
        """SIGKILL one instance's process group, as a crash would end it."""
        process = self.nodes[index - 1].processes[BACKENDS[backend][0]]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def restart(self, backend: str, index: int, timeout: float = 300) -> None:
        """Rolling restart of one instance: out of HAProxy's rotation, stopped, started, and
        back in once it is healthy; the other instance serves meanwhile."""
        node = self.nodes[index - 1]
        name = BACKENDS[backend][0]
        self.set_state(backend, index, "maint")
        node.stop_one(name)
        node.start(only=(name,))
        self.set_state(backend, index, "ready")
        self.wait_state(backend, index, "UP", timeout)

    def health(self, timeout: float = 5) -> dict[str, Any]:
        return httpx.get(f"{self.url}/healthz", timeout=timeout).json()

    def logs(self, tail: int = 3000) -> str:
        parts = []
        for index, node in enumerate(self.nodes, start=1):
            if node.log_dir is not None:
                for path in sorted(node.log_dir.glob("*.log")):
                    text = path.read_text(errors="replace")[-tail:]
                    parts.append(f"--- node{index} {path.name}\n{text}")
        if self.balancer is not None:
            parts.append(f"--- haproxy\n{self.balancer.log()[-tail:]}")
        return "\n".join(parts)

    def stop(self) -> None:
        # In parallel: a Rasa server may take seconds to shut down, and there are two.
        try:
            with ThreadPoolExecutor(len(self.nodes) or 1) as pool:
                for future in [pool.submit(node.stop) for node in self.nodes]:
                    future.result()
        finally:
            if self.balancer is not None:
                self.balancer.stop()

    def __enter__(self) -> Cluster:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
