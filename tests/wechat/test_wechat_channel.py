"""Integration: WeChat requests against a real `rasa run` serving the wechat channel."""

from __future__ import annotations

import re
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from itertools import count

import httpx
import pytest

from .conftest import RASA, RATE_LIMIT, ROOT, SLOW_ACTION_SECONDS, RasaServer
from .wechat_sim import (
    ACCOUNT,
    event_xml,
    image_xml,
    sha1_signature,
    text_xml,
    voice_xml,
    xml_fields,
)

WEBHOOK = "/webhooks/wechat/webhook"
WECHAT_DEADLINE_SECONDS = 5.0
CHINESE = re.compile(r"[\u4e00-\u9fff]")
_msg_ids = count(int(time.time() * 1000))


@pytest.fixture
def client(rasa_wechat: RasaServer) -> httpx.Client:
    with httpx.Client(base_url=rasa_wechat.url, timeout=30) as client:
        yield client


def post(client: httpx.Client, server: RasaServer, body: str, query=None) -> httpx.Response:
    """POST like WeChat and check the answer came within WeChat's 5-second limit."""
    started = time.monotonic()
    response = client.post(WEBHOOK, params=query or server.wechat.query(), content=body.encode())
    assert time.monotonic() - started < WECHAT_DEADLINE_SECONDS
    return response


def ask(client: httpx.Client, server: RasaServer, text: str, openid: str, msg_id=None) -> str:
    """Send a plain text message and return the Content of the passive reply."""
    body = text_xml(text, msg_id=msg_id or next(_msg_ids), openid=openid)
    response = post(client, server, body)
    assert response.status_code == 200, response.text
    fields = xml_fields(response.text)
    assert (fields["MsgType"], fields["ToUserName"], fields["FromUserName"]) == ("text", openid, ACCOUNT)
    return fields["Content"]


def test_handshake_echoes_echostr(client: httpx.Client, rasa_wechat: RasaServer) -> None:
    response = client.get(WEBHOOK, params=rasa_wechat.wechat.query() | {"echostr": "7310921"})
    assert (response.status_code, response.text) == (200, "7310921")
    assert response.headers["content-type"].startswith("text/plain")


def test_forged_signature_is_forbidden(client: httpx.Client, rasa_wechat: RasaServer) -> None:
    forged = rasa_wechat.wechat.query() | {"signature": sha1_signature("guess", "1", "2")}
    assert client.get(WEBHOOK, params=forged | {"echostr": "x"}).status_code == 403
    body = text_xml("你好", msg_id=next(_msg_ids), openid="oForger").encode()
    assert client.post(WEBHOOK, params=forged, content=body).status_code == 403


def test_stale_timestamp_is_forbidden(client: httpx.Client, rasa_wechat: RasaServer) -> None:
    stale = rasa_wechat.wechat.query(timestamp=int(time.time()) - 3600)
    body = text_xml("你好", msg_id=next(_msg_ids), openid="oReplay").encode()
    assert client.post(WEBHOOK, params=stale, content=body).status_code == 403


def test_malformed_xml_is_a_bad_request(client: httpx.Client, rasa_wechat: RasaServer) -> None:
    assert post(client, rasa_wechat, "<xml><MsgType>text").status_code == 400


def test_text_message_gets_a_chinese_reply(client: httpx.Client, rasa_wechat: RasaServer) -> None:
    content = ask(client, rasa_wechat, "你好", openid="oGreeter")
    assert CHINESE.search(content) and "普陀营商政策助手" in content


def test_measures_are_cited_and_typing_a_button_title_clicks_it(client, rasa_wechat) -> None:
    content = ask(client, rasa_wechat, "报税有什么优惠", openid="oTaxpayer")
    assert content.splitlines() == [
        "为您找到以下措施：",
        "1. 第23条 税费综合申报（区税务局）",
        "2. 第24条 电子税务局（区税务局、区财政局）",
        "回复“更多”查看更多",
    ]
    assert ask(client, rasa_wechat, "更多", openid="oTaxpayer") == "暂时没有更多相关措施了。"


def test_safe_mode_round_trip(client: httpx.Client, rasa_wechat: RasaServer) -> None:
    wechat = rasa_wechat.wechat
    query, body = wechat.encrypt(text_xml("纳税有哪些便利措施", msg_id=next(_msg_ids), openid="oSafe"))
    response = post(client, rasa_wechat, body, query)
    assert response.status_code == 200, response.text
    assert "<Content>" not in response.text  # nothing readable on the wire
    fields = xml_fields(wechat.decrypt_reply(response.text))
    assert fields["ToUserName"] == "oSafe" and "第23条 税费综合申报（区税务局）" in fields["Content"]


def test_subscribe_gets_a_welcome_and_unsubscribe_nothing(client, rasa_wechat) -> None:
    response = post(client, rasa_wechat, event_xml("subscribe", openid="oNewcomer"))
    welcome = xml_fields(response.text)["Content"]
    assert "欢迎" in welcome and "例如" in welcome
    response = post(client, rasa_wechat, event_xml("unsubscribe", openid="oLeaver"))
    assert (response.status_code, response.text) == (200, "success")


@pytest.mark.parametrize("make_body", [voice_xml, image_xml], ids=["voice", "image"])
def test_non_text_messages_ask_for_text(client, rasa_wechat, make_body) -> None:
    response = post(client, rasa_wechat, make_body(msg_id=next(_msg_ids), openid="oVoice"))
    assert "请输入文字" in xml_fields(response.text)["Content"]


def test_voice_with_recognition_is_answered_as_text(client, rasa_wechat) -> None:
    body = voice_xml(msg_id=next(_msg_ids), openid="oSpeaker", recognition="你好。")
    assert "普陀营商政策助手" in xml_fields(post(client, rasa_wechat, body).text)["Content"]


def test_retried_msgid_is_answered_once_with_the_same_reply(client, rasa_wechat) -> None:
    openid, msg_id = "oRetried", next(_msg_ids)
    first = ask(client, rasa_wechat, "报税有什么优惠", openid=openid, msg_id=msg_id)
    with ThreadPoolExecutor(3) as pool:  # WeChat's retries, arriving together
        retries = list(
            pool.map(
                lambda _: ask(client, rasa_wechat, "报税有什么优惠", openid=openid, msg_id=msg_id), range(3)
            )
        )
    assert retries == [first] * 3
    tracker = client.get(f"/conversations/{openid}/tracker").json()
    user_turns = [e for e in tracker["events"] if e["event"] == "user"]
    assert [e["text"] for e in user_turns] == ["报税有什么优惠"]
    assert user_turns[0]["input_channel"] == "wechat"
    assert user_turns[0]["metadata"]["wechat"]["msg_id"] == msg_id


def test_typed_intent_syntax_is_not_an_intent(client, rasa_wechat) -> None:
    ask(client, rasa_wechat, '/more{"x": 1}', openid="oInjector")
    tracker = client.get("/conversations/oInjector/tracker").json()
    user_turn = [e for e in tracker["events"] if e["event"] == "user"][-1]
    assert user_turn["text"] == 'more{"x": 1}'


def test_a_flooding_follower_is_asked_to_slow_down_politely(client, rasa_wechat) -> None:
    # WeChat retries anything but a 200 and then shows the follower an error page, so the
    # limit answers with a normal text reply; other followers are not affected.
    replies = [ask(client, rasa_wechat, "你好", openid="oFlooder") for _ in range(RATE_LIMIT + 2)]
    assert all("太频繁" not in r for r in replies[:RATE_LIMIT])
    assert all("太频繁" in r and "秒后再试" in r for r in replies[RATE_LIMIT:])
    assert "太频繁" not in ask(client, rasa_wechat, "你好", openid="oPatient")


def test_an_answer_slower_than_all_deliveries_is_sent_when_ready(rasa_wechat: RasaServer) -> None:
    # The tiny bot's slow lookup takes longer than WeChat's three deliveries of the message.
    openid, msg_id = "oPatient", next(_msg_ids)
    body = text_xml("慢慢查一下", msg_id=msg_id, openid=openid).encode()
    started = time.monotonic()
    replies, last_took = [], 0.0
    with httpx.Client(base_url=rasa_wechat.url, timeout=WECHAT_DEADLINE_SECONDS) as wechat:
        for _ in range(3):  # WeChat: wait 5 s, hang up, deliver again
            sent = time.monotonic()
            try:
                response = wechat.post(WEBHOOK, params=rasa_wechat.wechat.query(), content=body)
            except httpx.TimeoutException:
                replies.append(None)
                continue
            last_took = time.monotonic() - sent
            assert response.status_code == 200, response.text
            replies.append(xml_fields(response.text)["Content"])
    assert replies == [None, None, "正在查询，答案稍后发给您。"]
    assert last_took < WECHAT_DEADLINE_SECONDS

    deadline = started + SLOW_ACTION_SECONDS + 10
    while not rasa_wechat.api.sent_to(openid) and time.monotonic() < deadline:
        time.sleep(0.1)
    arrived = time.monotonic() - started
    time.sleep(1.5)  # nothing else follows
    answer = "\n".join(
        ["查询完毕，为您找到以下措施：", "1. 第7条 企业开办一网通办（区市场监管局）", "回复“更多”查看更多"]
    )
    assert rasa_wechat.api.sent_to(openid) == [answer], f"after {arrived:.1f} s"
    assert SLOW_ACTION_SECONDS <= arrived < SLOW_ACTION_SECONDS + 3
    for text in [*replies[2:], *rasa_wechat.api.sent_to(openid)]:
        assert not any(word in text for word in ("再发", "重新发送", "再问")), text
    # The conversation goes on from the late answer: its button is remembered.
    with httpx.Client(base_url=rasa_wechat.url, timeout=30) as client:
        assert ask(client, rasa_wechat, "更多", openid=openid) == "暂时没有更多相关措施了。"


def test_without_an_appsecret_the_channel_says_the_answer_is_delayed_and_warns_once() -> None:
    # Built as Rasa builds it, in Rasa's environment, with no WECHAT_APPSECRET.
    script = (
        "import logging; logging.basicConfig(level=logging.WARNING)\n"
        "from channels.wechat.channel import WeChatInput\n"
        "from channels.texts import WECHAT_LATE_REPLY_UNSENT\n"
        "channel = WeChatInput.from_credentials({'token': 't', 'appid': 'wx1'})\n"
        "assert channel.api is None\n"
        "assert channel.replies.unsent_late_reply == WECHAT_LATE_REPLY_UNSENT\n"
    )
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "REDIS_URL": ""}
    done = subprocess.run(
        [str(RASA.parent / "python"), "-c", script], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if "WECHAT_APPSECRET" in line]
    assert len(warnings) == 1 and "delayed" in warnings[0]
