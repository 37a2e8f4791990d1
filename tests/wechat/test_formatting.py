"""Unit tests of format_reply: Rasa bot messages -> one WeChat text bubble."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from channels.wechat.formatting import EMPTY_REPLY, MAX_REPLY_BYTES, MORE_HINT, format_reply

WECHAT_LIMIT_BYTES = 2048


def measure(number: int, title: str = "税费综合申报", units=("区税务局",), **extra) -> dict:
    return {
        "document_id": 1,
        "number": number,
        "title": title,
        "text": "全文……",
        "category": "纳税",
        "units": list(units),
        "score": 0.9,
    } | extra


def measures_message(*items: dict) -> dict:
    return {"recipient_id": "oU", "custom": {"type": "measures", "measures": list(items)}}


def test_text_then_numbered_measures_with_number_and_units() -> None:
    reply = format_reply(
        [
            {"recipient_id": "oU", "text": "为您找到以下措施："},
            measures_message(measure(23), measure(24, "电子税务局", ["区税务局", "区财政局"])),
        ]
    )
    assert reply.splitlines() == [
        "为您找到以下措施：",
        "1. 第23条 税费综合申报（区税务局）",
        "2. 第24条 电子税务局（区税务局、区财政局）",
    ]


def test_many_units_are_abbreviated_with_deng() -> None:
    units = ["区发展改革委", "区商务委", "区科委", "区财政局"]
    assert format_reply([measures_message(measure(7, "招商", units))]) == (
        "1. 第7条 招商（区发展改革委、区商务委、区科委等）"
    )


def test_measure_without_title_falls_back_to_its_text() -> None:
    item = measure(9, title="", text="推行企业登记全程电子化，实现营业执照申领、印章刻制一网通办以及更多内容")
    line = format_reply([measures_message(item)])
    assert line.startswith("1. 第9条 推行企业登记全程电子化") and line.endswith("…（区税务局）")


def test_units_payload_lists_each_unit_with_its_measures() -> None:
    custom = {
        "type": "units",
        "units": [
            {"name": "区税务局", "measures": [23, 24, 25]},
            {"name": "区市场监管局", "measures": list(range(1, 13))},
        ],
    }
    lines = format_reply([{"custom": custom}]).splitlines()
    assert lines[0] == "1. 区税务局：第23、24、25条"
    assert lines[1] == "2. 区市场监管局：第1、2、3、4、5、6、7、8、9、10等12条"


def test_single_more_button_becomes_a_reply_hint() -> None:
    reply = format_reply([{"text": "还有3条相关措施。", "buttons": [{"title": "更多", "payload": "/more"}]}])
    assert reply.splitlines() == ["还有3条相关措施。", "回复“更多”查看更多"]


def test_several_buttons_are_offered_by_title() -> None:
    buttons = [{"title": "更多", "payload": "/more"}, {"title": "人工服务", "payload": "/human"}]
    assert format_reply([{"text": "好的", "buttons": buttons}]).endswith("可回复“更多”或“人工服务”")


def test_text_split_by_rasa_and_images_are_kept_in_order() -> None:
    reply = format_reply([{"text": "第一段"}, {"text": "第二段\n\n"}, {"image": "https://x.invalid/a.png"}])
    assert reply.splitlines() == ["第一段", "第二段", "https://x.invalid/a.png"]


def test_payloads_meant_for_the_widget_only_are_skipped() -> None:
    assert format_reply([{"text": "好的"}, {"custom": {"type": "chart", "data": [1, 2]}}]) == "好的"


def test_no_messages_still_gives_a_non_empty_reply() -> None:
    assert format_reply([]) == EMPTY_REPLY
    assert format_reply([{"custom": {"type": "measures", "measures": []}}]) == EMPTY_REPLY


def test_long_reply_is_cut_at_a_line_and_points_to_more() -> None:
    items = [measure(n, "优化营商环境的一项具体措施名称较长" * 2) for n in range(1, 101)]
    reply = format_reply([{"text": "为您找到以下措施："}, measures_message(*items)])
    lines = reply.splitlines()
    assert len(reply.encode()) <= MAX_REPLY_BYTES
    assert lines[-1].endswith("回复“更多”查看更多")
    # Every kept measure line is whole: numbered, with its units.
    assert all(line.endswith("（区税务局）") for line in lines[1:-1])
    assert 10 < len(lines) < 100


def test_cut_keeps_the_button_hint_without_repeating_more() -> None:
    items = [measure(n, "较长的措施标题" * 5) for n in range(1, 60)]
    reply = format_reply([measures_message(*items), {"buttons": [{"title": "更多", "payload": "/more"}]}])
    assert reply.endswith("……\n回复“更多”查看更多")
    assert reply.count("更多") == 2


def test_a_single_huge_line_is_cut_to_the_limit() -> None:
    reply = format_reply([{"text": "营商环境" * 2000}])
    assert len(reply.encode()) <= MAX_REPLY_BYTES
    assert reply.startswith("营商环境营商环境") and "更多" in reply


@given(st.lists(st.text(max_size=400), max_size=12), st.integers(200, WECHAT_LIMIT_BYTES))
def test_any_reply_fits_the_byte_limit(texts: list[str], max_bytes: int) -> None:
    reply = format_reply([{"text": t} for t in texts], max_bytes=max_bytes)
    assert reply and len(reply.encode("utf-8")) <= max_bytes <= WECHAT_LIMIT_BYTES


@given(
    st.lists(st.text(alphabet="营商环境措施税ab12", min_size=1, max_size=300), max_size=15),
    st.integers(200, WECHAT_LIMIT_BYTES),
)
# Two lines fit exactly, but not with the pointer: the pointer must still be whole.
@example(lines=["营" * 50, "营" * 49, "营" * 50], max_bytes=300)
def test_a_cut_reply_keeps_whole_leading_lines_and_a_complete_pointer(lines, max_bytes) -> None:
    reply = format_reply([{"text": line} for line in lines], max_bytes=max_bytes)
    if len("\n".join(lines).encode()) <= max_bytes:
        assert reply == ("\n".join(lines) or EMPTY_REPLY)
        return
    *kept, pointer = reply.splitlines()
    assert pointer == MORE_HINT
    if kept == lines[: len(kept)]:
        return
    # Only a first line longer than the whole budget may itself be cut.
    assert len(kept) == 1 and lines[0].startswith(kept[0])
