"""Start the action server, the Rasa server and the gateway together; stop all on Ctrl-C.

`make run` calls this; the live tests use `Stack` the same way on free ports. A process that
crashes is restarted with backoff (bot/tools/supervisor.py) while the other two go on serving.
The action server and the gateway run on this interpreter (.venv, Python 3.12+); Rasa runs from
its own Python 3.10 environment (settings.rasa_python, .venv-rasa by default) and loads
danish_nlu/ from the project root. Under systemd (deploy/systemd/) each process is a unit of
its own and `--write-endpoints` writes Rasa's endpoints file before it starts.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
import yaml
from sqlalchemy.engine import make_url

from bot.core.config import PROJECT_ROOT, Settings, SettingsError, load_settings
from bot.tools.supervisor import GaveUp, RestartPolicy, Supervisor

# Rasa's SQL tracker store that also hands the turn's state to the gateway's one call per turn
# (danish_nlu/turn_channel.py); same table and settings as Rasa's own "SQL" type.
TRACKER_STORE = "danish_nlu.turn_channel.TurnTrackerStore"


def _sql_store(url: str) -> dict:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return {"type": TRACKER_STORE, "dialect": "sqlite", "db": parsed.database}
    return {
        "type": TRACKER_STORE,
        "dialect": "postgresql",
        "url": parsed.host or "127.0.0.1",
        "port": parsed.port or 5432,
        "db": parsed.database,
        "username": parsed.username,
        "password": parsed.password or "",
    }


def endpoints_config(settings: Settings) -> dict:
    config: dict = {
        "action_endpoint": {"url": f"{settings.actions_url}/webhook"},
        "tracker_store": _sql_store(settings.tracker_database_url),
    }
    if settings.redis_url:
        redis = make_url(settings.redis_url)
        config["lock_store"] = {
            "type": "redis",
            "url": redis.host or "127.0.0.1",
            "port": redis.port or 6379,
            "db": int(redis.database or 0),
            "password": redis.password or None,
            "key_prefix": "borgerservice",
        }
    return config


def write_endpoints(settings: Settings) -> Path:
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    path = settings.var_dir / "endpoints.yml"
    path.write_text(yaml.safe_dump(endpoints_config(settings), sort_keys=False), encoding="utf-8")
    return path


def prepare_database(settings: Settings, demo_conversations: int = 0) -> None:
    """Migrate the app database, bring new or changed knowledge/*.md files into the article
    store and fill the demo library (with demo conversations) when it is empty."""
    from bot.cli import main as cli_main

    url = ["--database-url", settings.database_url]
    cli_main([*url, "db", "upgrade"])
    cli_main([*url, "knowledge", "import"])
    cli_main([*url, "seed", "--if-empty", "--conversations", str(demo_conversations)])


# The thread pools of OpenMP, OpenBLAS and MKL (numpy, scipy, scikit-learn, TensorFlow).
MATH_THREADS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass
class Stack:
    """The three processes, each in its own process group so Ctrl-C reaches only us."""

    settings: Settings
    log_dir: Path | None = None
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    _logs: list[IO[bytes]] = field(default_factory=list)

    def own_env(self) -> dict[str, str]:
        """What the runner sets on top of its own environment (the systemd units set the
        same, deploy/systemd/; tests/test_systemd_units.py keeps them in step)."""
        return {
            "PYTHONPATH": str(PROJECT_ROOT),
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "3",
            # One math thread per process: three processes share the machine's cores, and
            # OpenBLAS's extra threads spin while they wait. Measured with `make bench` on
            # 2 cores: about 40 % more turns per second at 20 citizens, and a fifth faster
            # for one. A value already in the environment is kept.
            **{name: os.environ.get(name, "1") for name in MATH_THREADS},
            "SANIC_HOST": self.settings.host,  # rasa-sdk binds 0.0.0.0 otherwise
            "BORGER_RASA_TOKEN": self.settings.rasa_token,
            "BORGER_VAR_DIR": str(self.settings.var_dir),
            "BORGER_GATEWAY_PORT": str(self.settings.gateway_port),
            "BORGER_RASA_PORT": str(self.settings.rasa_port),
            "BORGER_ACTIONS_PORT": str(self.settings.actions_port),
            # The abuse limits too: `make bench` turns them off for its own stack.
            "BORGER_RATE_LIMIT_SESSION": str(self.settings.rate_limit_session),
            "BORGER_RATE_LIMIT_ADDRESS": str(self.settings.rate_limit_address),
            "BORGER_MAX_SOCKETS_PER_ADDRESS": str(self.settings.max_sockets_per_address),
            "BORGER_DATABASE_URL": self.settings.database_url,
        }

    def _env(self) -> dict[str, str]:
        return {**os.environ, **self.own_env()}

    def commands(self, endpoints: Path) -> dict[str, list[str]]:
        s = self.settings
        rasa = [
            str(s.rasa_python), "-m", "rasa", "run", "--enable-api",
            "--model", str(s.model_path), "--endpoints", str(endpoints),
            "--credentials", str(PROJECT_ROOT / "credentials.yml"),
            "--interface", s.host, "--port", str(s.rasa_port),
        ]
        if s.rasa_token:
            rasa.append(f"--auth-token={s.rasa_token}")
        return {
            "actions": [
                sys.executable, "-m", "rasa_sdk", "--actions", "actions",
                "--port", str(s.actions_port),
            ],
            "rasa": rasa,
            "gateway": [
                sys.executable, "-m", "uvicorn", "bot.gateway.app:create_app", "--factory",
                "--host", s.host, "--port", str(s.gateway_port), "--no-access-log",
                # The gateway alone decides whose X-Forwarded-For to believe
                # (BORGER_TRUSTED_PROXIES); uvicorn's default trusts any from loopback.
                "--no-proxy-headers",
                # The WebSocket implementation the browser and live tests run against.
                "--ws", "wsproto",
            ],
        }

    def start(self, only: tuple[str, ...] = ("actions", "rasa", "gateway")) -> None:
        endpoints = write_endpoints(self.settings)
        for name, command in self.commands(endpoints).items():
            if name not in only:
                continue
            output: IO[bytes] | None = None
            if self.log_dir:
                self.log_dir.mkdir(parents=True, exist_ok=True)
                output = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed in stop()
                self._logs.append(output)
            self.processes[name] = subprocess.Popen(
                command, cwd=PROJECT_ROOT, env=self._env(), stdout=output,
                stderr=subprocess.STDOUT if output else None, start_new_session=True,
            )

    def healthy(self) -> bool:
        """The gateway's /healthz is 200: gateway, database, Rasa and action server answer."""
        url = f"http://{self.settings.host}:{self.settings.gateway_port}/healthz"
        try:
            return httpx.get(url, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_healthy(self, timeout: float = 240) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            for name, process in list(self.processes.items()):
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode} while starting")
            if self.healthy():
                return time.monotonic() - started
            time.sleep(0.5)
        raise TimeoutError(f"not healthy after {timeout:.0f} s")

    def stop_one(self, name: str, timeout: float = 20) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def stop(self) -> None:
        # The gateway first, so that no citizen turn starts against a Rasa that is stopping.
        for name in ("gateway", "rasa", "actions", *self.processes):
            self.stop_one(name)
        for log in self._logs:
            log.close()
        self._logs.clear()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shell", action="store_true", help="chat in the terminal instead")
    parser.add_argument(
        "--write-endpoints", action="store_true",
        help="only write Rasa's endpoints file (var_dir/endpoints.yml) and print its path",
    )
    args = parser.parse_args(argv)
    try:
        settings = load_settings()  # `make run`'s one reading of the environment
    except SettingsError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    if args.write_endpoints:
        print(write_endpoints(settings))
        return 0
    if not settings.rasa_token:
        settings = settings.model_copy(update={"rasa_token": secrets.token_hex(24)})
    if not settings.model_path.exists():
        print(f"No trained model at {settings.model_path}: run 'make train'.", file=sys.stderr)
        return 1
    if not settings.rasa_python.exists():
        print(
            f"No Rasa environment at {settings.rasa_python}: run 'make install' "
            "(or set BORGER_RASA_PYTHON to a Python 3.10 with Rasa 3.6).",
            file=sys.stderr,
        )
        return 1
    # A month of demo chats, so the console's "Indsigt" page shows something on a new demo.
    prepare_database(settings, demo_conversations=400)
    stack = Stack(settings)
    stopping = False

    def _stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        if args.shell:
            stack.start(only=("actions",))
            endpoints = write_endpoints(settings)
            return subprocess.call(
                [str(settings.rasa_python), "-m", "rasa", "shell",
                 "--model", str(settings.model_path),
                 "--endpoints", str(endpoints)],
                cwd=PROJECT_ROOT, env=stack._env(),
            )
        stack.start()
        print("Starting the action server, Rasa and the gateway ...", flush=True)
        return _supervise(stack, lambda: stopping)
    finally:
        print("Stopping ...", flush=True)
        stack.stop()


def _supervise(stack: Stack, stopping: Callable[[], bool]) -> int:
    """Restart whatever crashes until Ctrl-C or SIGTERM; say when all three answer (again)."""
    settings = stack.settings
    supervisor = Supervisor(stack, RestartPolicy.from_settings(settings))
    started, ready, restarts = time.monotonic(), False, 0
    try:
        while not stopping():
            supervisor.step()
            if sum(supervisor.restarts.values()) != restarts:
                restarts, ready = sum(supervisor.restarts.values()), False
            if not ready and stack.healthy():
                ready = True
                if restarts:
                    print("All three processes answer again.", file=sys.stderr, flush=True)
                else:
                    print(
                        f"\nBorgerservice-assistenten is ready after "
                        f"{time.monotonic() - started:.0f} s: open "
                        f"http://{settings.host}:{settings.gateway_port}/  "
                        "(Ctrl-C stops everything)\n",
                        flush=True,
                    )
            time.sleep(0.5)
    except GaveUp as exc:
        print(f"Stopping everything: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
