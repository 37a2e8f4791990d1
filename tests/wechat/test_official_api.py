"""The Official Account API client against a stand-in for WeChat's API servers (real HTTP, loopback).

Shared tokens use Redis db 15 (nothing else in the suite uses it), each test under its own prefix.
"""

from __future__ import annotations

import ast
import logging
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis

from channels.wechat.official_api import (
    DEFAULT_BASE_URL,
    MemoryTokens,
    OfficialAccountAPI,
    Outcome,
    RedisTokens,
)

from .api_stand_in import CUSTOM_SEND, TEMPLATE_SEND, TOKEN, WeChatApiStandIn

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/15"
APPID, SECRET = "wx5f1e2d3c4b5a6978", "0123456789abcdef0123456789abcdef"
ANSWER = "为您找到以下措施：\n1. 第23条 税费综合申报（区税务局）"


@pytest.fixture
def wechat() -> Iterator[WeChatApiStandIn]:
    stand_in = WeChatApiStandIn(APPID, SECRET).start()
    yield stand_in
    stand_in.stop()


def client(wechat: WeChatApiStandIn, **options) -> OfficialAccountAPI:
    settings = {"base_url": wechat.base_url, "backoff": 0.01, "timeout": 2.0} | options
    return OfficialAccountAPI(APPID, SECRET, **settings)


def shared_tokens(prefix: str, **options) -> RedisTokens:
    return RedisTokens.from_url(REDIS_URL, APPID, prefix=prefix, **options)


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    prefix = f"test:wechat-token:{uuid.uuid4().hex}"
    yield prefix
    store = redis.Redis.from_url(REDIS_URL)
    keys = list(store.scan_iter(f"{prefix}:*"))
    if keys:
        store.delete(*keys)


def test_a_text_reaches_the_user_as_sent_in_utf8(wechat: WeChatApiStandIn) -> None:
    result = client(wechat).send_text("oAsker", ANSWER)
    assert (result.outcome, result.sent, result.calls) == (Outcome.SENT, True, 1)
    assert wechat.sent_to("oAsker") == [ANSWER]
    assert wechat.rejected == []  # no 40033: the body is raw UTF-8, not \uXXXX escapes


def test_many_sends_fetch_one_token(wechat: WeChatApiStandIn) -> None:
    api = client(wechat)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda n: api.send_text(f"o{n % 4}", f"答案{n}"), range(40)))
    assert {r.outcome for r in results} == {Outcome.SENT}
    assert wechat.token_issuances == 1
    assert sum(len(wechat.sent_to(f"o{n}")) for n in range(4)) == 40


def test_an_invalidated_token_is_refreshed_once_and_the_message_still_goes_out(wechat) -> None:
    api = client(wechat)
    api.send_text("oAsker", "第一条")
    wechat.invalidate_tokens()
    result = api.send_text("oAsker", ANSWER)
    assert result.outcome is Outcome.SENT and result.calls == 2
    assert wechat.token_issuances == 2
    assert wechat.rejected == [(CUSTOM_SEND, 40001)]
    assert wechat.sent_to("oAsker") == ["第一条", ANSWER]


def test_a_token_is_renewed_before_it_expires(wechat: WeChatApiStandIn) -> None:
    wechat.expires_in = 2  # kept for half its life: renewed after 1 s, never used expired
    api = client(wechat)
    api.send_text("oAsker", "一")
    time.sleep(1.1)
    api.send_text("oAsker", "二")
    assert wechat.token_issuances == 2 and wechat.rejected == []


@pytest.mark.parametrize("code", [40001, 40014, 42001])
def test_token_errors_are_retried_once_with_a_fresh_token_not_forever(wechat, code: int) -> None:
    wechat.fail_next(CUSTOM_SEND, 10, errcode=code)
    result = client(wechat).send_text("oAsker", ANSWER)
    assert (result.outcome, result.errcode, result.calls) == (Outcome.FAILED, code, 2)
    assert wechat.token_issuances == 2  # the first token, then exactly one refresh


def test_outside_the_48_hour_window_is_given_up_without_retry(wechat, caplog) -> None:
    wechat.outside_window.add("oAway")
    with caplog.at_level(logging.WARNING, logger="channels.wechat.official_api"):
        result = client(wechat).send_text("oAway", ANSWER)
    assert (result.outcome, result.errcode, result.calls) == (Outcome.OUTSIDE_WINDOW, 45015, 1)
    assert wechat.calls[CUSTOM_SEND] == 1
    assert "48 h" in caplog.text and "45015" in caplog.text


@pytest.mark.parametrize("code", [45009, 45011, 45047])
def test_a_used_up_quota_is_given_up_for_now(wechat, code: int) -> None:
    wechat.fail_next(CUSTOM_SEND, 5, errcode=code)
    result = client(wechat).send_text("oAsker", ANSWER)
    assert (result.outcome, result.errcode, result.calls) == (Outcome.QUOTA, code, 1)
    assert wechat.calls[CUSTOM_SEND] == 1


@pytest.mark.parametrize("failure", [{"status": 500}, {"status": 502}, {"errcode": -1}], ids=str)
def test_busy_or_failing_servers_are_retried_a_bounded_number_of_times(wechat, failure) -> None:
    sleeps: list[float] = []
    wechat.fail_next(CUSTOM_SEND, 10, **failure)
    result = client(wechat, attempts=3, sleep=sleeps.append).send_text("oAsker", ANSWER)
    assert result.outcome is Outcome.FAILED and result.calls == 3
    assert wechat.calls[CUSTOM_SEND] == 3 and wechat.sent_to("oAsker") == []
    assert sleeps == [0.01, 0.02]  # exponential backoff between the attempts


def test_a_passing_failure_is_retried_until_sent(wechat: WeChatApiStandIn) -> None:
    wechat.fail_next(CUSTOM_SEND, 1, status=503)
    wechat.fail_next(CUSTOM_SEND, 1, errcode=-1)
    result = client(wechat).send_text("oAsker", ANSWER)
    assert (result.outcome, result.calls) == (Outcome.SENT, 3)
    assert wechat.sent_to("oAsker") == [ANSWER]


def test_an_unreachable_api_fails_in_bounded_time_without_leaking_the_token(wechat, caplog) -> None:
    api = client(wechat, timeout=0.5)
    api.send_text("oAsker", "一")
    wechat.stop()
    started = time.monotonic()
    result = api.send_text("oAsker", ANSWER)
    assert result.outcome is Outcome.FAILED and result.errcode is None
    assert time.monotonic() - started < 5
    token = api.tokens.get()
    assert token and token not in caplog.text and "access_token=***" in caplog.text


def test_a_wrong_appsecret_fails_at_the_token_without_retry(wechat, caplog) -> None:
    api = OfficialAccountAPI(APPID, "not-the-secret", base_url=wechat.base_url, backoff=0.01)
    result = api.send_text("oAsker", ANSWER)
    assert (result.outcome, result.errcode, result.calls) == (Outcome.FAILED, 40125, 0)
    assert wechat.calls[TOKEN] == 1 and wechat.calls[CUSTOM_SEND] == 0
    assert "not-the-secret" not in caplog.text


def test_a_busy_token_endpoint_is_retried(wechat: WeChatApiStandIn) -> None:
    wechat.fail_next(TOKEN, 1, errcode=-1)
    assert client(wechat).send_text("oAsker", ANSWER).sent
    assert wechat.calls[TOKEN] == 2 and wechat.token_issuances == 1


def test_template_messages_share_the_token(wechat: WeChatApiStandIn) -> None:
    api = client(wechat)
    data = {"first": {"value": "您关注的政策有更新"}, "keyword1": {"value": "第23条 税费综合申报"}}
    assert api.send_template("oAsker", "tpl-policy-update", data, url="https://example.invalid/m/23").sent
    assert api.send_text("oAsker", ANSWER).sent
    assert wechat.templates == [
        {
            "touser": "oAsker",
            "template_id": "tpl-policy-update",
            "data": data,
            "url": "https://example.invalid/m/23",
        }
    ]
    assert wechat.token_issuances == 1


def test_the_base_url_comes_from_the_environment() -> None:
    environ = {
        "WECHAT_APPID": APPID,
        "WECHAT_APPSECRET": SECRET,
        "WECHAT_API_BASE_URL": "http://127.0.0.1:9/x",
    }
    api = OfficialAccountAPI.from_environment(environ=environ)
    assert api is not None and api.base_url == "http://127.0.0.1:9/x/"
    assert isinstance(api.tokens, MemoryTokens)
    assert OfficialAccountAPI.from_environment(environ={"WECHAT_APPSECRET": SECRET}) is None
    assert OfficialAccountAPI.from_environment(environ={"WECHAT_APPID": APPID}) is None
    default = OfficialAccountAPI.from_environment(environ={"WECHAT_APPID": APPID, "WECHAT_APPSECRET": SECRET})
    assert default is not None and default.base_url == DEFAULT_BASE_URL
    shared = OfficialAccountAPI.from_environment(environ={**environ, "REDIS_URL": REDIS_URL})
    assert shared is not None and isinstance(shared.tokens, RedisTokens)


@pytest.mark.redis
def test_clients_sharing_redis_fetch_one_token(wechat: WeChatApiStandIn, redis_prefix: str) -> None:
    wechat.token_delay = 0.3  # so that concurrent first sends would all fetch without the lock
    apis = [client(wechat, tokens=shared_tokens(redis_prefix)) for _ in range(4)]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda n: apis[n % 4].send_text("oAsker", f"答案{n}"), range(16)))
    assert {r.outcome for r in results} == {Outcome.SENT}
    assert wechat.token_issuances == 1


@pytest.mark.redis
def test_an_invalidated_shared_token_is_refreshed_once_for_all(wechat, redis_prefix: str) -> None:
    apis = [client(wechat, tokens=shared_tokens(redis_prefix)) for _ in range(4)]
    apis[0].send_text("oAsker", "一")
    wechat.invalidate_tokens()
    wechat.token_delay = 0.3
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda api: api.send_text("oAsker", ANSWER), apis))
    assert {r.outcome for r in results} == {Outcome.SENT}
    assert wechat.token_issuances == 2  # the first token and ONE refresh, not one per client


def test_without_redis_the_token_is_kept_per_process(wechat: WeChatApiStandIn) -> None:
    down = RedisTokens.from_url("redis://127.0.0.1:1/0", APPID)
    api = client(wechat, tokens=down)
    assert api.send_text("oAsker", "一").sent and api.send_text("oAsker", "二").sent
    assert wechat.token_issuances == 1


WORKER = """
import sys, time
from channels.wechat.official_api import OfficialAccountAPI, RedisTokens
base_url, redis_url, prefix, appid, secret, start_at = sys.argv[1:7]
tokens = RedisTokens.from_url(redis_url, appid, prefix=prefix)
api = OfficialAccountAPI(appid, secret, base_url=base_url, tokens=tokens)
time.sleep(max(0.0, float(start_at) - time.time()))
print(" ".join(api.send_text("oAsker", "答案") .outcome.value for _ in range(5)))
"""


@pytest.mark.redis
def test_two_processes_in_both_environments_refresh_the_token_once(wechat, redis_prefix: str) -> None:
    # One worker in the app's virtual environment, one in Rasa's: the module runs in both.
    pythons = [Path(sys.executable), ROOT / ".venv-rasa" / "bin" / "python"]
    if not pythons[1].exists():
        pytest.skip("the Rasa virtual environment is missing")
    wechat.token_delay = 0.5
    start_at = str(time.time() + 3)
    args = [wechat.base_url, REDIS_URL, redis_prefix, APPID, SECRET, start_at]
    workers = [
        subprocess.Popen(
            [str(python), "-c", WORKER, *args],
            cwd=ROOT,
            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for python in pythons
    ]
    outputs = [worker.communicate(timeout=60) for worker in workers]
    for worker, (out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err
        assert out.split() == ["sent"] * 5, err
    assert wechat.token_issuances == 1
    assert len(wechat.sent_to("oAsker")) == 10


def test_the_module_needs_no_rasa_and_no_web_framework() -> None:
    # The app's push worker reuses it: wechatpy, redis, requests and the standard library only.
    tree = ast.parse((ROOT / "channels" / "wechat" / "official_api.py").read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    top_level = {name.split(".")[0] for name in imported}
    assert top_level - set(sys.stdlib_module_names) <= {"wechatpy", "redis", "requests", "__future__"}


def test_the_stand_in_refuses_what_wechat_refuses(wechat: WeChatApiStandIn) -> None:
    # The stand-in itself, checked against the documented behaviour with a plain HTTP client.
    import httpx

    base = wechat.base_url
    assert httpx.get(base + "token", params={"grant_type": "client_credential", "appid": APPID}).json()[
        "errcode"
    ] == (40125)
    token = httpx.get(
        base + "token", params={"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
    ).json()
    assert token["expires_in"] == 7200 and token["access_token"]
    send = base + "message/custom/send"
    assert httpx.post(send, content=b"{}").json()["errcode"] == 41001
    assert httpx.post(send, params={"access_token": "forged"}, content=b"{}").json()["errcode"] == 40001
    escaped = b'{"touser": "oA", "msgtype": "text", "text": {"content": "\\u4f60\\u597d"}}'
    params = {"access_token": token["access_token"]}
    assert httpx.post(send, params=params, content=escaped).json()["errcode"] == 40033
    assert httpx.post(base + "message/template/send", params=params, json={"touser": "oA"}).json()[
        "errcode"
    ] == (40037)
    assert wechat.calls[TEMPLATE_SEND] == 1
