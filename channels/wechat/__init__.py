"""WeChat Official Account connector: the Rasa custom channel `channels.wechat.WeChatInput`."""

from typing import Any

__all__ = ["WeChatInput"]


def __getattr__(name: str) -> Any:
    # Imported lazily: protocol/formatting/state must stay importable without Rasa
    # (their tests run in the app venv), while Rasa resolves `channels.wechat.WeChatInput`
    # with getattr() on this package.
    if name == "WeChatInput":
        from channels.wechat.channel import WeChatInput

        return WeChatInput
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
