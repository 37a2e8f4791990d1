"""What the embedded default exposes: the stack started as a newcomer would, with no settings.

Whether a port is reachable from other machines is read from the kernel's socket table
(/proc/net/tcp*): a listener bound to 127.0.0.1 cannot be reached through any other address.
No traffic is sent to a non-loopback address.
"""

from __future__ import annotations

import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from policy_db.config import PROJECT_ROOT
from tests.e2e.conftest import LOG_DIR, port, require_model
from tools.stack import Stack

pytestmark = [pytest.mark.bot]
SETTINGS = ("RASA_AUTH_TOKEN", "ACTION_SERVER_TOKEN", "HOST", "DATABASE_URL", "REDIS_URL")


@pytest.fixture(scope="module")
def newcomer_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """`make run`'s stack with none of the security settings in the environment."""
    require_model()
    database = f"sqlite:///{tmp_path_factory.mktemp('newcomer') / 'policy.db'}"
    with pytest.MonkeyPatch.context() as patch:
        for name in SETTINGS:
            patch.delenv(name, raising=False)
        stack = Stack(
            rasa_port=port(5405),
            action_port=port(5455),
            app_port=port(8400),
            log_dir=LOG_DIR,
            env={"DATABASE_URL": database},
        )
        with stack:
            yield stack


def listening_addresses(tcp_port: int) -> set[str]:
    """The local addresses of the sockets listening on a TCP port (IPv4 and IPv6)."""
    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].rsplit(":", 1)
            if int(hex_port, 16) == tcp_port and fields[3] == "0A":  # 0A: LISTEN
                found.add(address)
    return found


LOOPBACK = {"0100007F", "00000000000000000000000001000000"}  # 127.0.0.1, ::1 as the kernel prints them


def test_every_process_listens_on_loopback_only(newcomer_stack: Stack) -> None:
    for tcp_port in (newcomer_stack.rasa_port, newcomer_stack.action_port, newcomer_stack.app_port):
        addresses = listening_addresses(tcp_port)
        assert addresses, f"nothing listens on {tcp_port}"
        assert addresses <= LOOPBACK, f"port {tcp_port} listens on {addresses}"


def test_rasa_api_needs_the_generated_token(newcomer_stack: Stack) -> None:
    secret = PROJECT_ROOT / "var" / "secrets" / "rasa_auth_token"
    assert newcomer_stack.rasa_token == secret.read_text().strip() and len(newcomer_stack.rasa_token) >= 32
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    tracker = f"{newcomer_stack.rasa_url}/conversations/x/tracker"
    assert httpx.get(tracker, timeout=30).status_code in (401, 403)
    assert httpx.get(tracker, params={"token": "guess"}, timeout=30).status_code in (401, 403)
    assert httpx.get(tracker, params={"token": newcomer_stack.rasa_token}, timeout=30).status_code == 200
    # No CORS grant: a page elsewhere cannot script Rasa from a visitor's browser.
    asking = {"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}  # a header only
    preflight = httpx.options(f"{newcomer_stack.rasa_url}/webhooks/rest/webhook", timeout=30, headers=asking)
    assert preflight.headers.get("access-control-allow-origin") in (None, "")


def test_the_action_server_answers_only_rasa(newcomer_stack: Stack) -> None:
    webhook = f"http://127.0.0.1:{newcomer_stack.action_port}/webhook"
    call = {"next_action": "action_no_such_thing", "sender_id": "x", "tracker": {}, "domain": {}}
    assert httpx.post(webhook, json=call, timeout=30).status_code == 403
    assert httpx.post(webhook, json=call, params={"token": "guess"}, timeout=30).status_code == 403
    secret = (PROJECT_ROOT / "var" / "secrets" / "action_server_token").read_text().strip()
    past_the_guard = httpx.post(webhook, json=call, params={"token": secret}, timeout=30)
    assert past_the_guard.status_code == 404  # rasa-sdk itself: no such action


def test_widget_console_admin_webhooks_and_the_bot_still_work(newcomer_stack: Stack) -> None:
    app = newcomer_stack.app_url
    for page in ("/", "/staff", "/admin", "/admin/insights"):
        assert httpx.get(app + page, timeout=30).status_code == 200, page
    # The bot answers through the widget's endpoint: Rasa reached the guarded action server.
    reply = httpx.post(
        f"{app}/api/chat",
        timeout=60,
        json={
            "sender": f"newcomer-{uuid.uuid4().hex[:8]}",
            "message": "留抵退税能退吗",
            "client_id": uuid.uuid4().hex,
        },
    ).json()
    payloads = [r["custom"] for r in reply["replies"] if r.get("custom")]
    assert payloads and payloads[0]["type"] == "measures" and payloads[0]["measures"][0]["number"] == 25
    # The public channels stay public: REST answers, the WeChat webhook says it is not configured.
    rest = httpx.post(
        f"{newcomer_stack.rasa_url}/webhooks/rest/webhook",
        timeout=60,
        json={"sender": f"newcomer-{uuid.uuid4().hex[:8]}", "message": "你好"},
    )
    assert rest.status_code == 200 and rest.json()
    assert httpx.get(f"{newcomer_stack.rasa_url}/webhooks/wechat/webhook", timeout=30).status_code == 503


def test_compose_publishes_only_the_app_and_rasa_and_locks_both_apis() -> None:
    compose = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"app", "rasa"}
    rasa_command = " ".join(services["rasa"]["command"])
    assert '--auth-token "$$RASA_AUTH_TOKEN"' in rasa_command and "--cors" not in rasa_command
    assert "exit 1" in rasa_command  # refuses to start without the token
    assert services["actions"]["command"][:3] == ["python", "-m", "actions.server"]
    endpoints = yaml.safe_load((PROJECT_ROOT / "docker" / "endpoints.compose.yml").read_text())
    assert endpoints["action_endpoint"]["token"] == "${ACTION_SERVER_TOKEN}"
