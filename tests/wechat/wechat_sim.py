"""What WeChat's servers do, written from the published protocol.

Deliberately independent of the code under test AND of wechatpy: signatures are sha1
over the sorted parameters, safe mode is AES-256-CBC (key = base64(EncodingAESKey + "="),
IV = the key's first 16 bytes, PKCS#7 to 32-byte blocks) over
random(16) + big-endian length(4) + xml + appid, as the "消息加解密" document specifies.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import struct
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

ACCOUNT = "gh_0123456789ab"


def sha1_signature(*parts: str) -> str:
    """WeChat's signature: sha1 of the parameters sorted and concatenated."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def new_aes_key() -> str:
    """A random 43-character EncodingAESKey, as the admin console generates."""
    return base64.b64encode(secrets.token_bytes(32)).decode("ascii").rstrip("=")


def text_xml(content: str, *, msg_id: int, openid: str, create_time: int | None = None) -> str:
    """A user's text message."""
    return _message_xml(
        openid,
        "text",
        create_time,
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId>",
    )


def voice_xml(*, msg_id: int, openid: str, recognition: str | None = None) -> str:
    """A voice message, with the speech-recognition transcript when given."""
    extra = f"<Recognition><![CDATA[{recognition}]]></Recognition>" if recognition else ""
    fields = "<MediaId><![CDATA[media1]]></MediaId><Format><![CDATA[amr]]></Format>"
    return _message_xml(openid, "voice", None, f"{fields}{extra}<MsgId>{msg_id}</MsgId>")


def image_xml(*, msg_id: int, openid: str) -> str:
    """An image message."""
    fields = "<PicUrl><![CDATA[http://example.invalid/a.jpg]]></PicUrl>"
    return _message_xml(
        openid, "image", None, f"{fields}<MediaId><![CDATA[m]]></MediaId><MsgId>{msg_id}</MsgId>"
    )


def event_xml(event: str, *, openid: str, event_key: str = "", create_time: int | None = None) -> str:
    """An event push (subscribe, unsubscribe, CLICK, ...)."""
    key = f"<EventKey><![CDATA[{event_key}]]></EventKey>" if event_key else ""
    return _message_xml(openid, "event", create_time, f"<Event><![CDATA[{event}]]></Event>{key}")


def _message_xml(openid: str, msg_type: str, create_time: int | None, fields: str) -> str:
    created = int(time.time()) if create_time is None else create_time
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{created}</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>"
        f"{fields}</xml>"
    )


def xml_fields(xml: str) -> dict[str, str]:
    """The child elements of a flat <xml> document, as text."""
    return {child.tag: child.text or "" for child in ET.fromstring(xml)}


@dataclass
class WeChatSim:
    """WeChat's side of one Official Account's server configuration."""

    token: str
    aes_key: str | None = None
    appid: str | None = None

    def query(self, *, timestamp: int | None = None, nonce: str | None = None) -> dict[str, str]:
        """Signed query parameters as WeChat appends them to every request."""
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        nonce = nonce or str(secrets.randbelow(10**9))
        return {
            "signature": sha1_signature(self.token, stamp, nonce),
            "timestamp": stamp,
            "nonce": nonce,
            "openid": "oSim",
        }

    def encrypt(self, xml: str, *, appid: str | None = None) -> tuple[dict[str, str], str]:
        """A safe-mode request: (query with encrypt_type/msg_signature, body)."""
        query = self.query()
        encrypted = self._encrypt(xml, appid or self.appid or "")
        query |= {
            "encrypt_type": "aes",
            "msg_signature": sha1_signature(self.token, query["timestamp"], query["nonce"], encrypted),
        }
        body = (
            f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
            f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
        )
        return query, body

    def decrypt_reply(self, reply: str) -> str:
        """Check a safe-mode reply's MsgSignature and return the inner XML."""
        outer = xml_fields(reply)
        expected = sha1_signature(self.token, outer["TimeStamp"], outer["Nonce"], outer["Encrypt"])
        assert outer["MsgSignature"] == expected, "reply MsgSignature does not verify"
        plain = self._cipher().decryptor().update(base64.b64decode(outer["Encrypt"]))
        plain = plain[: -plain[-1]]  # PKCS#7
        (length,) = struct.unpack(">I", plain[16:20])
        assert plain[20 + length :].decode() == self.appid, "reply is for another appid"
        return plain[20 : 20 + length].decode("utf-8")

    def _encrypt(self, xml: str, appid: str) -> str:
        data = xml.encode("utf-8")
        plain = secrets.token_bytes(16) + struct.pack(">I", len(data)) + data + appid.encode()
        pad = 32 - len(plain) % 32
        plain += bytes([pad]) * pad
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode("ascii")

    def _cipher(self) -> Cipher:
        assert self.aes_key, "safe mode needs an aes_key"
        key = base64.b64decode(self.aes_key + "=")
        return Cipher(algorithms.AES(key), modes.CBC(key[:16]))
