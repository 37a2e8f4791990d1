"""Fixtures for the WeChat channel: a tiny trained Rasa model and a real `rasa run` with it.

The model comes from tests/wechat/tiny_bot (not bot/), so these tests do not depend on
the real bot's training data. It is trained once and cached under
var/test-cache/wechat-model/, keyed by a hash of the tiny project and the Rasa version.
Its one custom action (tiny_bot/tiny_actions.py, a slow lookup) runs in a rasa-sdk action
server, and the channel sends late answers to a stand-in for WeChat's API (api_stand_in.py).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from .api_stand_in import WeChatApiStandIn
from .wechat_sim import WeChatSim, new_aes_key, text_xml

ROOT = Path(__file__).resolve().parents[2]
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
TINY_BOT = Path(__file__).parent / "tiny_bot"
MODEL_CACHE = ROOT / "var" / "test-cache" / "wechat-model"
STARTUP_TIMEOUT_SECONDS = 240
RATE_LIMIT = 8
# The tiny bot's slow lookup: longer than WeChat's three deliveries (5 + 5 + 4.5 s).
SLOW_ACTION_SECONDS = 16.0

# The form credentials.yml should use in production: values from the environment.
CREDENTIALS = """\
channels.wechat.WeChatInput:
  token: ${WECHAT_TOKEN}
  aes_key: ${WECHAT_AES_KEY}
  appid: ${WECHAT_APPID}
"""


@dataclass(frozen=True)
class RasaServer:
    """A running `rasa run` with the wechat channel, and WeChat's side of its account."""

    url: str
    wechat: WeChatSim
    api: WeChatApiStandIn  # WeChat's API servers, where late answers arrive


def _rasa_env(**extra: str) -> dict[str, str]:
    # No telemetry calls from a test run; TensorFlow's banner only clutters the logs.
    quiet = {"RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
    return os.environ | quiet | extra


def _tiny_bot_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in TINY_BOT.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(TINY_BOT)).encode() + b"\0" + path.read_bytes())
    rasa_dist = sorted(RASA.parents[1].glob("lib/python*/site-packages/rasa-*.dist-info"))
    digest.update(" ".join(p.name for p in rasa_dist).encode())
    return digest.hexdigest()[:16]


def _train(target: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="wechat-tiny-bot-") as tmp:
        project = Path(tmp) / "bot"
        shutil.copytree(TINY_BOT, project)
        out = Path(tmp) / "models"
        result = subprocess.run(
            [str(RASA), "train", "--out", str(out), "--fixed-model-name", "tiny"],
            cwd=project,
            env=_rasa_env(),
            capture_output=True,
            text=True,
            timeout=900,
        )
        if result.returncode != 0:
            raise RuntimeError(f"rasa train failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
        target.parent.mkdir(parents=True, exist_ok=True)
        # Copy then rename: a concurrent test run never sees a half-written model.
        partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
        shutil.copyfile(out / "tiny.tar.gz", partial)
        os.replace(partial, target)


@pytest.fixture(scope="session")
def wechat_model() -> Path:
    """The tiny bot's model, trained on first use and cached by content hash."""
    if not RASA.exists():
        pytest.skip(f"{RASA} is missing: set up the Rasa environment first")
    target = MODEL_CACHE / f"tiny-{_tiny_bot_digest()}.tar.gz"
    if not target.exists():
        _train(target)
    return target


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"rasa run exited ({process.returncode}):\n{log.read_text()[-4000:]}")
        try:
            # The channel routes are served only once the model has loaded.
            if httpx.get(f"{url}/webhooks/wechat/", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"rasa run not up after {STARTUP_TIMEOUT_SECONDS} s:\n{log.read_text()[-4000:]}")


def _warm_up(url: str, wechat: WeChatSim) -> None:
    # The first turn after start-up loads jieba's dictionary (seconds on a busy machine).
    # In production that one slow turn is what riding WeChat's retries covers; the tests
    # measure the steady state, so pay it here.
    body = text_xml("你好", msg_id=1, openid="oWarmUp").encode()
    response = httpx.post(f"{url}/webhooks/wechat/webhook", params=wechat.query(), content=body, timeout=60)
    response.raise_for_status()


def _wait_for_actions(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"action server exited ({process.returncode}):\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"action server not up after {STARTUP_TIMEOUT_SECONDS} s:\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="session")
def tiny_actions(wechat_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The tiny bot's action server (rasa-sdk, loopback); its webhook URL for endpoints.yml."""
    log = tmp_path_factory.mktemp("tiny-actions") / "actions.log"
    port = _free_port()
    env = _rasa_env(
        PYTHONPATH=str(TINY_BOT),
        PYTHONDONTWRITEBYTECODE="1",  # no __pycache__ in tiny_bot/: it would change the model's hash
        SANIC_HOST="127.0.0.1",
        TINY_BOT_SLOW_SECONDS=str(SLOW_ACTION_SECONDS),
    )
    command = [
        str(RASA.parent / "python"),
        "-m",
        "rasa_sdk",
        "--actions",
        "tiny_actions",
        "--port",
        str(port),
    ]
    with log.open("w") as log_file:
        process = subprocess.Popen(
            command, cwd=log.parent, env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_for_actions(url, process, log)
        yield f"{url}/webhook"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def rasa_wechat(
    wechat_model: Path, tiny_actions: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RasaServer]:
    """`rasa run` (with --enable-api, for tracker checks) serving the wechat channel in safe mode."""
    workdir = tmp_path_factory.mktemp("rasa-wechat")
    (workdir / "credentials.yml").write_text(CREDENTIALS)
    (workdir / "endpoints.yml").write_text(f'action_endpoint:\n  url: "{tiny_actions}"\n')
    wechat = WeChatSim(secrets.token_hex(8), new_aes_key(), f"wx{secrets.token_hex(8)}")
    api = WeChatApiStandIn(wechat.appid or "", secrets.token_hex(16)).start()
    port = _free_port()
    env = _rasa_env(
        PYTHONPATH=str(ROOT),
        WECHAT_TOKEN=wechat.token,
        WECHAT_AES_KEY=wechat.aes_key or "",
        WECHAT_APPID=wechat.appid or "",
        WECHAT_APPSECRET=api.secret,
        WECHAT_API_BASE_URL=api.base_url,
        CHAT_RATE_LIMIT=str(RATE_LIMIT),  # per openid and minute; no test but the flood sends more
        CHAT_RATE_WINDOW_SECONDS="60",
        REDIS_URL="",
    )
    log = workdir / "rasa.log"
    command = [
        str(RASA),
        "run",
        "--model",
        str(wechat_model),
        "--credentials",
        "credentials.yml",
        "--endpoints",
        "endpoints.yml",
        "--interface",
        "127.0.0.1",
        "--port",
        str(port),
        "--enable-api",
    ]
    with log.open("w") as log_file:
        process = subprocess.Popen(command, cwd=workdir, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_up(url, process, log)
        _warm_up(url, wechat)
        yield RasaServer(url, wechat, api)
    finally:
        api.stop()
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
