"""Unit tests of channels.wechat.protocol against requests built per WeChat's protocol."""

from __future__ import annotations

import time

import pytest

from channels.wechat.protocol import (
    InvalidSignature,
    MalformedMessage,
    StaleRequest,
    WeChatProtocol,
    dedupe_key,
    is_event,
    resolve_setting,
)

from .wechat_sim import (
    ACCOUNT,
    WeChatSim,
    event_xml,
    image_xml,
    new_aes_key,
    sha1_signature,
    text_xml,
    xml_fields,
)

TOKEN = "putuo-test-token"
APPID = "wx1234567890abcdef"


@pytest.fixture
def sim() -> WeChatSim:
    return WeChatSim(TOKEN, new_aes_key(), APPID)


@pytest.fixture
def protocol(sim: WeChatSim) -> WeChatProtocol:
    return WeChatProtocol(TOKEN, sim.aes_key, APPID)


def test_handshake_returns_echostr(protocol: WeChatProtocol, sim: WeChatSim) -> None:
    assert protocol.handshake(sim.query() | {"echostr": "4815162342"}) == "4815162342"


@pytest.mark.parametrize("tamper", ["signature", "timestamp", "nonce"])
def test_tampered_query_is_forbidden(protocol: WeChatProtocol, sim: WeChatSim, tamper) -> None:
    query = sim.query() | {"echostr": "x"}
    query[tamper] = query[tamper][:-1] + ("1" if query[tamper][-1] != "1" else "2")
    with pytest.raises(InvalidSignature) as caught:
        protocol.handshake(query)
    assert caught.value.status == 403


def test_missing_signature_is_forbidden(protocol: WeChatProtocol, sim: WeChatSim) -> None:
    query = sim.query()
    del query["signature"]
    with pytest.raises(InvalidSignature):
        protocol.handshake(query)


def test_signature_with_another_token_is_forbidden(protocol: WeChatProtocol) -> None:
    with pytest.raises(InvalidSignature):
        protocol.handshake(WeChatSim("another-token").query())


@pytest.mark.parametrize("offset", [-301, 301, -3600])
def test_stale_or_future_timestamp_is_rejected(sim: WeChatSim, offset: int) -> None:
    now = 1_700_000_000
    protocol = WeChatProtocol(TOKEN, clock=lambda: now)
    with pytest.raises(StaleRequest) as caught:
        protocol.handshake(sim.query(timestamp=now + offset))
    assert caught.value.status == 403


@pytest.mark.parametrize("offset", [-299, 0, 299])
def test_timestamp_within_window_is_accepted(sim: WeChatSim, offset: int) -> None:
    now = 1_700_000_000
    protocol = WeChatProtocol(TOKEN, clock=lambda: now)
    protocol.handshake(sim.query(timestamp=now + offset))


def test_signed_but_non_numeric_timestamp_is_rejected(protocol: WeChatProtocol) -> None:
    query = {
        "timestamp": "yesterday",
        "nonce": "1",
        "signature": sha1_signature(TOKEN, "yesterday", "1"),
    }
    with pytest.raises(StaleRequest):
        protocol.handshake(query)


def test_plain_text_message_is_parsed(protocol: WeChatProtocol, sim: WeChatSim) -> None:
    body = text_xml("开公司要多久？", msg_id=1001, openid="oUser")
    incoming = protocol.parse(sim.query(), body.encode())
    assert (incoming.message.type, incoming.message.content) == ("text", "开公司要多久？")
    assert (incoming.message.source, incoming.message.id) == ("oUser", 1001)
    assert not incoming.encrypted


def test_post_with_forged_signature_is_forbidden(protocol: WeChatProtocol) -> None:
    body = text_xml("你好", msg_id=1, openid="oUser").encode()
    with pytest.raises(InvalidSignature):
        protocol.parse({"signature": "0" * 40, "timestamp": str(int(time.time())), "nonce": "1"}, body)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not xml at all",
        b"<xml><ToUserName>a</ToUserName>",
        b"<xml><FromUserName>oUser</FromUserName></xml>",  # no MsgType
        b"<other><MsgType>text</MsgType></other>",
        b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]><xml><MsgType>&a;</MsgType></xml>',
        b"\xff\xfe<xml/>",
    ],
)
def test_malformed_body_is_a_bad_request(protocol: WeChatProtocol, sim: WeChatSim, body) -> None:
    with pytest.raises(MalformedMessage) as caught:
        protocol.parse(sim.query(), body)
    assert caught.value.status == 400


def test_safe_mode_round_trip(protocol: WeChatProtocol, sim: WeChatSim) -> None:
    query, body = sim.encrypt(text_xml("报税有什么便利？", msg_id=2002, openid="oSafe"))
    incoming = protocol.parse(query, body.encode())
    assert incoming.encrypted and incoming.message.content == "报税有什么便利？"

    reply = sim.decrypt_reply(protocol.render_text(incoming, "第23条 税费综合申报（区税务局）"))
    fields = xml_fields(reply)
    assert fields["Content"] == "第23条 税费综合申报（区税务局）"
    assert (fields["ToUserName"], fields["FromUserName"]) == ("oSafe", ACCOUNT)
    assert fields["MsgType"] == "text"


def test_safe_mode_with_bad_msg_signature_is_forbidden(protocol, sim: WeChatSim) -> None:
    query, body = sim.encrypt(text_xml("你好", msg_id=3, openid="oSafe"))
    query["msg_signature"] = "0" * 40
    with pytest.raises(InvalidSignature):
        protocol.parse(query, body.encode())


def test_safe_mode_message_for_another_appid_is_forbidden(protocol, sim: WeChatSim) -> None:
    query, body = sim.encrypt(text_xml("你好", msg_id=4, openid="oSafe"), appid="wxOTHER")
    with pytest.raises(InvalidSignature):
        protocol.parse(query, body.encode())


def test_safe_mode_message_without_aes_key_is_a_bad_request(sim: WeChatSim) -> None:
    query, body = sim.encrypt(text_xml("你好", msg_id=5, openid="oSafe"))
    with pytest.raises(MalformedMessage):
        WeChatProtocol(TOKEN).parse(query, body.encode())


def test_plain_message_to_a_safe_mode_account_gets_a_plain_reply(protocol, sim) -> None:
    # "兼容模式": the account has a key but WeChat may still send plain messages.
    incoming = protocol.parse(sim.query(), text_xml("你好", msg_id=6, openid="oU").encode())
    assert xml_fields(protocol.render_text(incoming, "您好"))["Content"] == "您好"


def test_reply_content_cannot_break_out_of_cdata(protocol, sim: WeChatSim) -> None:
    incoming = protocol.parse(sim.query(), text_xml("hi", msg_id=7, openid="oU").encode())
    fields = xml_fields(protocol.render_text(incoming, "a]]><MsgType>news</MsgType>b"))
    assert fields["MsgType"] == "text"
    assert fields["Content"].startswith("a]]") and fields["Content"].endswith("b")


def test_safe_mode_needs_appid() -> None:
    with pytest.raises(ValueError, match="appid"):
        WeChatProtocol(TOKEN, new_aes_key())


@pytest.mark.parametrize("aes_key", ["too-short", new_aes_key() + "A", "!" * 43])
def test_a_malformed_aes_key_is_refused_clearly(aes_key: str) -> None:
    with pytest.raises(ValueError, match="43-character"):
        WeChatProtocol(TOKEN, aes_key, APPID)


def test_retries_share_a_dedupe_key_and_other_messages_do_not(protocol, sim) -> None:
    def key(xml: str) -> str:
        return dedupe_key(protocol.parse(sim.query(), xml.encode()).message)

    first = key(text_xml("你好", msg_id=42, openid="oA", create_time=100))
    assert first == key(text_xml("你好", msg_id=42, openid="oA", create_time=100))
    assert first != key(text_xml("你好", msg_id=43, openid="oA", create_time=100))
    subscribe = key(event_xml("subscribe", openid="oA", create_time=100))
    assert subscribe == key(event_xml("subscribe", openid="oA", create_time=100))
    assert subscribe != key(event_xml("subscribe", openid="oB", create_time=100))
    assert subscribe != key(event_xml("subscribe", openid="oA", create_time=101))


@pytest.mark.parametrize(
    "credentials, expected",
    [
        ({"token": "from-yaml"}, "from-yaml"),
        ({"token": 123456}, "123456"),  # an unquoted number in YAML
        ({"token": ""}, "from-env"),  # ${WECHAT_TOKEN} set to "" by the environment
        ({"token": "${WECHAT_TOKEN}"}, "from-env"),  # quoted, so Rasa left it alone
        ({}, "from-env"),
    ],
)
def test_credentials_fall_back_to_the_environment(credentials, expected) -> None:
    environ = {"WECHAT_TOKEN": "from-env"}
    assert resolve_setting(credentials, "token", "WECHAT_TOKEN", environ) == expected


def test_unset_credential_is_none() -> None:
    assert resolve_setting({"aes_key": " "}, "aes_key", "WECHAT_AES_KEY", {}) is None


@pytest.mark.parametrize(
    "xml, expected",
    [
        (event_xml("subscribe", openid="oA"), True),
        (event_xml("user_info_modified", openid="oA"), True),  # unknown to wechatpy
        (text_xml("你好", msg_id=8, openid="oA"), False),
        (image_xml(msg_id=9, openid="oA"), False),
    ],
)
def test_events_are_told_apart_from_messages(protocol, sim, xml: str, expected: bool) -> None:
    assert is_event(protocol.parse(sim.query(), xml.encode()).message) is expected
