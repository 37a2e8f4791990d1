"""Personal-information redaction: valid numbers inside Chinese sentences are always masked whole,
numbers that fail their check and the policy vocabulary (articles, years, amounts, hotlines,
landlines, document numbers) are never touched.

The check digits here are computed by the tests' own implementations of GB 11643 (resident ID),
GB 32100 (credit code) and Luhn, independent of the library the module uses.
"""

from __future__ import annotations

import datetime
import timeit

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from privacy import PLACEHOLDERS, Finding, Kind, contains_personal_data, find, redact

PROPERTY_SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- independent check digits -----------------------------------------------------------

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def id_check(body: str) -> str:
    """GB 11643 check character for the 17-digit body."""
    return "10X98765432"[sum(int(c) * w for c, w in zip(body, ID_WEIGHTS, strict=True)) % 11]


def uscc_check(body: str) -> str:
    """GB 32100 check character for the 17-character body."""
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(body.upper(), USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def luhn_check(body: str) -> str:
    """The digit that makes `body` + digit pass Luhn."""
    total = 0
    for i, c in enumerate(reversed(body)):
        d = int(c) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


def digits(value: str) -> str:
    return "".join(c for c in value if c.isalnum()).upper()


def is_valid_id(value: str) -> bool:
    v = digits(value)
    if len(v) != 18 or not v[:17].isdigit() or v[17] != id_check(v[:17]) or v[0] in "09":
        return False
    try:
        born = datetime.date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        return False
    return datetime.date(1900, 1, 1) <= born <= datetime.date.today()


def is_valid_uscc(value: str) -> bool:
    v = digits(value)
    return (
        len(v) == 18
        and v[0] in "123456789ANY"
        and v[2:8].isdigit()
        and all(c in USCC_ALPHABET for c in v)
        and v[17] == uscc_check(v[:17])
    )


def is_luhn_card(value: str) -> bool:
    v = digits(value)
    return v.isdigit() and 13 <= len(v) <= 19 and v[0] != "0" and v[-1] == luhn_check(v[:-1])


def claimed_elsewhere(value: str) -> bool:
    """Whether a digit run would be taken by a kind of higher precedence than a bank card."""
    v = digits(value)
    mobile_with_86 = len(v) == 13 and v.startswith("861") and v[3] in "3456789"
    return is_valid_id(v) or is_valid_uscc(v) or mobile_with_86


# --- Chinese sentences around the values -------------------------------------------------

CJK = "请问我公司法人代表联系方式是的号码在这里谢谢您好企业申请补贴政策办理需要提供材料负责人账户开户行"
PUNCT = "，。、；：？！“”（）"
SAFE_PHRASES = (
    "第18条",
    "措施21",
    "第3项",
    "2021年",
    "2021-2023年",
    "2026-11-30",
    "500万元",
    "1,000,000元",
    "12345",
    "021-52564588",
    "普府办〔2021〕12号",
)
SENTENCE = st.lists(
    st.one_of(st.text(CJK + PUNCT, min_size=1, max_size=8), st.sampled_from(SAFE_PHRASES)), max_size=4
).map("的".join)
# The character next to a value may be a space, but the value never continues a run of digit groups
# ("2021 6222 0212 ..."): there a card may be read as another window of the run.
BEFORE = st.tuples(SENTENCE, st.sampled_from("：，是为（号"), st.sampled_from(["", " "])).map("".join)
AFTER = st.tuples(st.sampled_from(["", " "]), st.sampled_from("，。）的；"), SENTENCE).map("".join)


# --- valid values ------------------------------------------------------------------------

BIRTH = st.dates(datetime.date(1900, 1, 1), datetime.date(2024, 12, 31))


@st.composite
def resident_ids(draw: st.DrawFn) -> str:
    region = str(draw(st.integers(100000, 899999)))
    born = draw(BIRTH).strftime("%Y%m%d")
    sequence = f"{draw(st.integers(0, 999)):03d}"
    body = region + born + sequence
    check = id_check(body)
    if check == "X" and draw(st.booleans()):
        check = "x"
    separator = draw(st.sampled_from(["", "", " ", "-"]))
    return separator.join([region, born, sequence + check])


USCC_CHARS = st.sampled_from(USCC_ALPHABET)


@st.composite
def credit_codes(draw: st.DrawFn) -> str:
    body = (
        draw(st.sampled_from("123456789ANY"))
        + draw(USCC_CHARS)
        + f"{draw(st.integers(0, 999999)):06d}"
        + "".join(draw(st.lists(USCC_CHARS, min_size=9, max_size=9)))
    )
    code = body + uscc_check(body)
    return code.lower() if draw(st.booleans()) and draw(st.booleans()) else code


@st.composite
def mobiles(draw: st.DrawFn) -> str:
    number = "1" + draw(st.sampled_from("3456789")) + f"{draw(st.integers(0, 999_999_999)):09d}"
    separator = draw(st.sampled_from(["", "", " ", "-"]))
    prefix = draw(st.sampled_from(["", "", "", "+86", "+86 ", "+86-", "86", "86 ", "0086", "(+86)"]))
    return prefix + separator.join([number[:3], number[3:7], number[7:]])


@st.composite
def bank_cards(draw: st.DrawFn) -> str:
    length = draw(st.integers(13, 19))
    body = str(draw(st.integers(10 ** (length - 2), 10 ** (length - 1) - 1)))
    number = body + luhn_check(body)
    if draw(st.booleans()):
        return draw(st.sampled_from(" -")).join(number[i : i + 4] for i in range(0, length, 4))
    return number


LOCAL = st.text("abcdefghijklmnopqrstuvwxyz0123456789._-", min_size=0, max_size=12)
LABEL = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=10)


@st.composite
def emails(draw: st.DrawFn) -> str:
    local = draw(st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789")) + draw(LOCAL)
    domain = ".".join(draw(st.lists(LABEL, min_size=1, max_size=3)))
    tld = draw(st.sampled_from(["com", "cn", "com.cn", "net", "org", "gov.cn", "edu.cn"]))
    return f"{local}@{domain}.{tld}"


def assert_masked_once(before: str, value: str, after: str, kind: Kind) -> None:
    text = before + value + after
    assert find(text) == [Finding(kind, len(before), len(before) + len(value))]
    masked = redact(text)
    assert masked == before + PLACEHOLDERS[kind] + after
    assert value not in masked
    assert contains_personal_data(text)


# --- valid values are masked whole --------------------------------------------------------


@PROPERTY_SETTINGS
@given(BEFORE, resident_ids(), AFTER)
def test_valid_resident_ids_are_masked(before: str, value: str, after: str) -> None:
    assert_masked_once(before, value, after, "id_card")


@PROPERTY_SETTINGS
@given(BEFORE, credit_codes(), AFTER)
def test_valid_credit_codes_are_masked(before: str, value: str, after: str) -> None:
    assume(not is_valid_id(value))  # an all-digit code that is also a valid ID is masked as an ID
    assert_masked_once(before, value, after, "credit_code")


@PROPERTY_SETTINGS
@given(BEFORE, mobiles(), AFTER)
def test_valid_mobiles_are_masked(before: str, value: str, after: str) -> None:
    assert_masked_once(before, value, after, "mobile")


@PROPERTY_SETTINGS
@given(BEFORE, bank_cards(), AFTER)
def test_luhn_valid_bank_cards_are_masked(before: str, value: str, after: str) -> None:
    assume(not claimed_elsewhere(value))
    assert_masked_once(before, value, after, "bank_card")


@PROPERTY_SETTINGS
@given(BEFORE, bank_cards(), AFTER)
def test_luhn_valid_runs_are_masked_whatever_the_kind(before: str, value: str, after: str) -> None:
    findings = find(before + value + after)
    assert [(f.start, f.end) for f in findings] == [(len(before), len(before) + len(value))]


@PROPERTY_SETTINGS
@given(BEFORE, emails(), AFTER)
def test_emails_are_masked(before: str, value: str, after: str) -> None:
    assert_masked_once(before, value, after, "email")


@PROPERTY_SETTINGS
@given(
    st.lists(
        st.one_of(
            resident_ids().map(lambda v: ("id_card", v)),
            mobiles().map(lambda v: ("mobile", v)),
            emails().map(lambda v: ("email", v)),
            credit_codes().filter(lambda v: not is_valid_id(v)).map(lambda v: ("credit_code", v)),
        ),
        min_size=1,
        max_size=4,
    ),
    st.lists(SENTENCE, min_size=5, max_size=5),
)
def test_several_values_in_one_message(values: list[tuple[Kind, str]], fillers: list[str]) -> None:
    text = fillers[0]
    expected = fillers[0]
    for (kind, value), filler in zip(values, fillers[1:], strict=False):
        text += "，" + value + "；" + filler
        expected += "，" + PLACEHOLDERS[kind] + "；" + filler
    assert redact(text) == expected
    assert [f.kind for f in find(text)] == [kind for kind, _ in values]


@PROPERTY_SETTINGS
@given(BEFORE, mobiles(), AFTER)
def test_full_width_digits_are_read_as_digits(before: str, value: str, after: str) -> None:
    wide = value.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})
    assert_masked_once(before, wide, after, "mobile")


# --- values that fail their check are left alone ----------------------------------------


@PROPERTY_SETTINGS
@given(BEFORE, resident_ids(), st.sampled_from("0123456789X"), AFTER)
def test_ids_with_a_wrong_check_digit_are_left_alone(before: str, valid: str, wrong: str, after: str) -> None:
    assume(valid[-1].upper() != wrong)
    value = valid[:-1] + wrong
    assume(not is_valid_uscc(value) and not is_luhn_card(value))  # those are other kinds' numbers
    text = before + value + after
    assert find(text) == []
    assert redact(text) == text


@PROPERTY_SETTINGS
@given(
    BEFORE,
    st.integers(100000, 899999),
    st.sampled_from(["19990230", "20210431", "20231301", "20230001", "19991200", "18991231", "20990101"]),
    st.integers(0, 999),
    AFTER,
)
def test_ids_with_an_impossible_birth_date_are_left_alone(
    before: str, region: int, born: str, sequence: int, after: str
) -> None:
    body = f"{region}{born}{sequence:03d}"
    value = body + id_check(body)
    assume(not is_valid_uscc(value) and not is_luhn_card(value))
    assert redact(before + value + after) == before + value + after


@PROPERTY_SETTINGS
@given(BEFORE, credit_codes(), USCC_CHARS, AFTER)
def test_credit_codes_with_a_wrong_check_character_are_left_alone(
    before: str, valid: str, wrong: str, after: str
) -> None:
    assume(valid[-1].upper() != wrong)
    value = valid[:-1] + wrong
    assume(not is_valid_id(value) and not is_luhn_card(value))
    assert redact(before + value + after) == before + value + after


def card_windows(value: str) -> list[str]:
    """The digits of every card-shaped window of a grouped number but the whole: groups of four, then
    a group of one to four, 13-19 digits in all."""
    groups = value.replace("-", " ").split(" ")
    windows = []
    for first in range(len(groups)):
        for last in range(first, len(groups)):
            part = groups[first : last + 1]
            window = "".join(part)
            whole = first == 0 and last == len(groups) - 1
            shaped = all(len(g) == 4 for g in part[:-1]) and len(part[-1]) <= 4
            if not whole and shaped and 13 <= len(window) <= 19 and window[0] != "0":
                windows.append(window)
    return windows


@PROPERTY_SETTINGS
@given(BEFORE, bank_cards(), st.integers(1, 9), AFTER)
def test_cards_failing_luhn_are_left_alone(before: str, valid: str, shift: int, after: str) -> None:
    value = valid[:-1] + str((int(valid[-1]) + shift) % 10)
    assume(not claimed_elsewhere(value))
    # A card typed with a wrong last group can hold a valid shorter card: that one is masked.
    assume(not any(is_luhn_card(window) for window in card_windows(value)))
    assert redact(before + value + after) == before + value + after


@PROPERTY_SETTINGS
@given(BEFORE, st.sampled_from(["10", "11", "12"]), st.integers(0, 999_999_999), AFTER)
def test_eleven_digits_no_mobile_are_left_alone(before: str, head: str, rest: int, after: str) -> None:
    text = before + f"{head}{rest:09d}" + after
    assert redact(text) == text


@PROPERTY_SETTINGS
@given(
    BEFORE,
    st.sampled_from(["A", "x", "9", "0", "k1", "20"]),
    st.one_of(mobiles().filter(lambda v: v[0] == "1"), resident_ids(), credit_codes()),
    st.sampled_from(["", "7", "B", "01"]),
    AFTER,
)
def test_values_inside_a_longer_code_are_never_cut(
    before: str, lead: str, value: str, trail: str, after: str
) -> None:
    """A valid value glued to digits or letters is never masked in part: the run is masked whole or not."""
    start = len(before)
    end = start + len(lead) + len(value) + len(trail)
    for finding in find(before + lead + value + trail + after):
        assert not start < finding.start < end
        assert not start < finding.end < end


# --- the policy vocabulary survives -------------------------------------------------------

YEAR = st.integers(1990, 2035)
POLICY_PHRASES = st.one_of(
    st.integers(1, 200).map("第{}条".format),
    st.integers(1, 99).map("措施{}".format),
    st.integers(1, 30).map("第{}项".format),
    YEAR.map("{}年".format),
    st.tuples(YEAR, YEAR).map(lambda ys: f"{ys[0]}-{ys[1]}年"),
    st.dates(datetime.date(1990, 1, 1), datetime.date(2035, 12, 31)).map(lambda d: d.isoformat()),
    st.dates(datetime.date(1990, 1, 1), datetime.date(2035, 12, 31)).map(lambda d: f"{d:%Y年%m月%d日}"),
    st.integers(1, 99_999).map("{}万元".format),
    st.integers(1, 999_999_999).map("{}元".format),
    st.integers(1, 10**15).map("{:,}元".format),
    st.sampled_from(["12345", "12315", "12366", "95588", "110", "400-820-8820", "962222"]),
    st.tuples(st.sampled_from(["021", "010", "0571", "0755"]), st.integers(10**6, 10**8 - 1)).map(
        lambda t: f"{t[0]}-{t[1]}"
    ),
    st.tuples(st.sampled_from(["普府办", "沪府规", "普府发", "国发"]), YEAR, st.integers(1, 300)).map(
        lambda t: f"{t[0]}〔{t[1]}〕{t[2]}号"
    ),
    st.tuples(st.integers(1, 50), st.integers(1, 50)).map(lambda t: f"第{t[0]}条第{t[1]}款"),
    st.decimals(0, 100, places=2).map("{}%".format),
)


@PROPERTY_SETTINGS
@given(st.lists(st.tuples(POLICY_PHRASES, st.text(CJK + PUNCT + " ", min_size=1, max_size=6)), max_size=6))
def test_policy_vocabulary_is_never_touched(parts: list[tuple[str, str]]) -> None:
    text = "".join(phrase + filler for phrase, filler in parts)
    assert find(text) == []
    assert redact(text) == text
    assert not contains_personal_data(text)


@PROPERTY_SETTINGS
@given(st.text(max_size=60))
def test_any_text_masks_to_a_fixed_point(text: str) -> None:
    findings = find(text)
    spans = [(f.start, f.end) for f in findings]
    assert spans == sorted(spans)
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:], strict=False))
    masked = redact(text)
    assert find(masked) == []
    assert redact(masked) == masked


# --- readable examples --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我的手机号是13812345678，请回电", "我的手机号是[手机号]，请回电"),
        ("联系电话：+86 138-1234-5678（王经理）", "联系电话：[手机号]（王经理）"),
        ("手机 139 1234 5678 或 0086 15012345678", "手机 [手机号] 或 [手机号]"),
        ("法人身份证号11010519491231002X，请核对", "法人身份证号[身份证号]，请核对"),
        ("身份证 110105 19491231 002x", "身份证 [身份证号]"),
        ("统一社会信用代码：91110000600037341L", "统一社会信用代码：[信用代码]"),
        ("收款账户4111 1111 1111 1111，开户行工商银行", "收款账户[银行卡号]，开户行工商银行"),
        ("卡号4111111111111111", "卡号[银行卡号]"),
        ("邮箱zhang.san@putuo-example.com.cn，谢谢", "邮箱[邮箱]，谢谢"),
        ("手机１３８１２３４５６７８", "手机[手机号]"),
        ("卡号4111 1111 1111 1111 2021年开户", "卡号[银行卡号] 2021年开户"),
        ("截至2021 4111 1111 1111 1111", "截至2021 [银行卡号]"),
        ("转入4111 1111 1111 1111 1,000,000元", "转入[银行卡号] 1,000,000元"),
    ],
)
def test_examples_are_masked(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "根据普府办〔2021〕12号第18条，2021-2023年最高补贴500万元（1,000,000元起），咨询12345或021-52564588",
        "措施21和第3项的截止日期是2026-11-30",
        "身份证11010519491231002Y",  # not an ID: wrong last character
        "身份证110105194912310021",  # check digit wrong (X expected)
        "身份证110105194902301234",  # 30 February (the check digit is right)
        "信用代码91110000600037341M",  # check character wrong
        "卡号4111111111111112",  # Luhn fails
        "订单号A13812345678",  # glued to a letter
        "编号138123456789",  # 12 digits
        "请拨打400-820-8820或95588",
        "第1381234567条",  # no mobile: 10 digits
        "编号A100000 19990209 0004B",  # groups inside a glued code: 19990209 passes Luhn, but is no card
    ],
)
def test_examples_are_left_alone(text: str) -> None:
    assert redact(text) == text


def test_findings_give_kinds_and_spans_for_auditing() -> None:
    text = "法人手机13812345678，邮箱a@b.cn，身份证11010519491231002X"
    assert find(text) == [
        Finding("mobile", 4, 15),
        Finding("email", 18, 24),
        Finding("id_card", 28, 46),
    ]
    assert text[4:15] == "13812345678"


def test_placeholders_are_distinct_and_undetectable() -> None:
    assert len(set(PLACEHOLDERS.values())) == len(PLACEHOLDERS)
    assert find("".join(PLACEHOLDERS.values())) == []


def test_a_short_message_takes_microseconds() -> None:
    messages = [
        "请问普陀区对科技型中小企业有什么补贴政策？",
        "第18条 措施21 2021-2023年的政策还有效吗？500万元以上的项目",
        "我是张三，手机13812345678，公司信用代码91110000600037341L",
    ]
    runs = 2000
    per_message = min(timeit.repeat(lambda: [redact(m) for m in messages], number=runs, repeat=3))
    assert per_message / runs / len(messages) < 100e-6  # generous: about 1-10 µs on a developer machine
