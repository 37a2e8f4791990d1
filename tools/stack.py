"""Start the three processes (Rasa, action server, app) together; used by `make run` and the tests.

Standard library only, so it runs before anything else is importable. Ctrl-C stops all of them.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
RASA_BIN = ROOT / ".venv-rasa" / "bin"
MODEL = ROOT / "bot" / "models" / "policybot.tar.gz"
COLORS = {"rasa": "\033[35m", "actions": "\033[36m", "app": "\033[32m", "worker": "\033[33m"}


def local_secret(name: str) -> str:
    """A random secret made once and kept under var/secrets/ (mode 0600), for the embedded default."""
    path = ROOT / "var" / "secrets" / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


def endpoints_yaml(
    action_port: int, redis_url: str | None, key_prefix: str = "policybot", action_token: str = ""
) -> str:
    """The Rasa endpoints: our action server (with its shared secret), and Redis tracker + lock
    stores when REDIS_URL is set."""
    lines = ["action_endpoint:", f"  url: http://127.0.0.1:{action_port}/webhook"]
    if action_token:
        lines.append(f"  token: {action_token}")
    if redis_url:
        url = urlparse(redis_url)
        db = int((url.path or "/0").lstrip("/") or 0)
        common = [f"  url: {url.hostname or '127.0.0.1'}", f"  port: {url.port or 6379}"]
        if url.password:
            common.append(f"  password: {url.password}")
        lines += [
            "tracker_store:",
            # Rasa's Redis store, writing conversations with personal data masked.
            "  type: rasa_plugins.tracker_store.RedactingRedisTrackerStore",
            *common,
            f"  db: {db}",
            f"  key_prefix: {key_prefix}",
            "  record_exp: 604800",
            # Rasa's RedisLockStore, falling back to process memory while Redis is down.
            "lock_store:",
            "  type: rasa_plugins.lock_store.FailSafeRedisLockStore",
            *common,
            f"  db: {db + 1}",
            f"  key_prefix: {key_prefix}",
        ]
    else:
        lines += ["tracker_store:", "  type: rasa_plugins.tracker_store.RedactingInMemoryTrackerStore"]
    return "\n".join(lines) + "\n"


class Stack:
    """The Rasa server, the action server and the app on chosen ports."""

    def __init__(
        self,
        *,
        rasa_port: int = 5005,
        action_port: int = 5055,
        app_port: int = 8000,
        env: dict[str, str] | None = None,
        log_dir: Path | None = None,
        credentials: Path | None = None,
        model: Path = MODEL,
    ) -> None:
        self.rasa_port, self.action_port, self.app_port = rasa_port, action_port, app_port
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
        self.env.setdefault("RASA_URL", f"http://127.0.0.1:{rasa_port}")
        # Secure by default: Rasa's HTTP API always needs a token and the action server a shared
        # secret; both are generated once for the embedded default when not configured.
        for variable, name in (
            ("RASA_AUTH_TOKEN", "rasa_auth_token"),
            ("ACTION_SERVER_TOKEN", "action_server_token"),
        ):
            if not self.env.get(variable):
                self.env[variable] = local_secret(name)
        # Loopback unless HOST opens the app and Rasa's webhooks deliberately; the action
        # server answers only Rasa, on this machine.
        self.host = self.env.get("HOST") or "127.0.0.1"
        self.env["ACTION_SERVER_HOST"] = "127.0.0.1"
        self.log_dir = log_dir
        self.credentials = credentials or ROOT / "bot" / "credentials.yml"
        self.model = model
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.run_dir = ROOT / "var" / "run" / f"rasa-{rasa_port}"

    @property
    def rasa_token(self) -> str:
        """RASA_AUTH_TOKEN: Rasa's HTTP API (trackers, events, model) needs it as ?token=."""
        return self.env["RASA_AUTH_TOKEN"]

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def app_url(self) -> str:
        return f"http://127.0.0.1:{self.app_port}"

    def commands(self) -> dict[str, list[str]]:
        """The command line of each process."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        endpoints = self.run_dir / "endpoints.yml"
        endpoints.write_text(
            endpoints_yaml(
                self.action_port, self.env.get("REDIS_URL"), action_token=self.env["ACTION_SERVER_TOKEN"]
            )
        )
        endpoints.chmod(0o600)  # it holds the action server's secret
        return {
            "actions": [str(VENV_BIN / "python"), "-m", "actions.server", "--port", str(self.action_port)],
            # Delivers policy notifications from the outbox (widget inbox, WeChat template messages).
            "worker": [str(VENV_BIN / "policybot"), "worker"],
            "app": [
                str(VENV_BIN / "uvicorn"),
                "app.main:app",
                "--host",
                self.host,
                "--port",
                str(self.app_port),
                "--no-access-log",
            ],
            # No --cors: the widget talks to the app, never to Rasa. The API (trackers, events,
            # model) needs the token; the channel webhooks under /webhooks/ stay public.
            "rasa": [
                str(RASA_BIN / "rasa"),
                "run",
                "--enable-api",
                "--auth-token",
                self.rasa_token,
                "-i",
                self.host,
                "--model",
                str(self.model),
                "--endpoints",
                str(endpoints),
                "--credentials",
                str(self.credentials),
                "--port",
                str(self.rasa_port),
            ],
        }

    def start(self, *, only: tuple[str, ...] = ("actions", "app", "rasa")) -> None:
        """Prepare the database once, then spawn the processes (logs to files or prefixed stdout)."""
        subprocess.run(
            [str(VENV_BIN / "policybot"), "init", "--no-export"],
            cwd=ROOT,
            env=self.env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        for name, command in self.commands().items():
            if name in only:
                self.start_one(name, command)

    def start_one(self, name: str, command: list[str] | None = None) -> None:
        """Spawn (or respawn) one process."""
        command = command or self.commands()[name]
        cwd = ROOT / "bot" if name == "rasa" else ROOT
        if self.log_dir:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            out = open(self.log_dir / f"{name}-{self.rasa_port}.log", "ab")  # noqa: SIM115
            self.processes[name] = subprocess.Popen(
                command, cwd=cwd, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        else:
            process = subprocess.Popen(
                command,
                cwd=cwd,
                env=self.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            self.processes[name] = process
            threading.Thread(target=_relay, args=(name, process), daemon=True).start()

    def wait_ready(self, timeout: float = 240.0) -> None:
        """Block until every started process answers its health check."""
        checks = {
            "actions": f"http://127.0.0.1:{self.action_port}/health",
            "app": f"{self.app_url}/health",
            "rasa": f"{self.rasa_url}/status?token={urllib.parse.quote(self.rasa_token)}",
        }
        deadline = time.monotonic() + timeout
        for name in self.processes:
            if name not in checks:  # the worker serves nothing: running is ready
                continue
            while not _answers(checks[name]):
                if self.processes[name].poll() is not None:
                    raise RuntimeError(f"{name} exited with {self.processes[name].returncode}")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{name} did not become ready in {timeout:.0f} s")
                time.sleep(0.5)

    def stop_one(self, name: str) -> None:
        """Stop one process and its children."""
        process = self.processes.pop(name, None)
        if process and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def stop(self) -> None:
        """Stop everything."""
        for name in list(self.processes):
            self.stop_one(name)

    def __enter__(self) -> Stack:
        self.start()
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            if "/status" in url:
                return bool(json.loads(response.read()).get("model_file"))
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _relay(name: str, process: subprocess.Popen[bytes]) -> None:
    assert process.stdout is not None
    color = COLORS.get(name, "") if sys.stdout.isatty() else ""
    reset = "\033[0m" if color else ""
    for line in process.stdout:
        sys.stdout.write(f"{color}{name:>7} |{reset} {line.decode(errors='replace')}")
        sys.stdout.flush()


def main() -> None:
    """`make run` (serve until Ctrl-C) or `make eval VIA=bot` (serve, evaluate, stop)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--eval", type=Path, help="evaluate this JSONL file through the bot, then stop")
    args = parser.parse_args()
    stack = Stack(log_dir=ROOT / "var" / "log" if args.eval else None)
    stack.start(only=("actions", "app", "rasa") if args.eval else ("actions", "app", "rasa", "worker"))
    try:
        stack.wait_ready()
        if args.eval:
            code = subprocess.call(
                [
                    str(VENV_BIN / "policybot"),
                    "eval",
                    str(args.eval),
                    "--via",
                    "bot",
                    "--rasa-url",
                    stack.rasa_url,
                ],
                env=stack.env,
            )
            sys.exit(code)
        print(
            f"\n  widget:  {stack.app_url}/\n  API:     {stack.app_url}/docs\n"
            f"  bot:     {stack.rasa_url}/webhooks/rest/webhook\n"
            f"  listening on {stack.host} (HOST=0.0.0.0 opens the app and the webhooks); Rasa's API "
            f"needs ?token= from var/secrets/rasa_auth_token\n  Ctrl-C stops everything.\n",
            flush=True,
        )
        while all(p.poll() is None for p in stack.processes.values()):
            time.sleep(1)
        print("a process exited; stopping the others", flush=True)
        sys.exit(1)
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
