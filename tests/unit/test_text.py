"""Numerals and measure-number questions as business owners write them."""

import pytest

from policy_db.text import find_measure_number, normalize, parse_chinese_number


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("十二", 12),
        ("二十", 20),
        ("二十三", 23),
        ("一百", 100),
        ("九十九", 99),
        ("两", 2),
        ("一百零五", 105),
        ("7", 7),
        ("十", 10),
    ],
)
def test_chinese_numerals(text: str, number: int) -> None:
    assert parse_chinese_number(text) == number


@pytest.mark.parametrize(
    ("question", "number"),
    [
        ("第12条", 12),
        ("第十二条是什么", 12),
        ("12条讲的啥", 12),
        ("看下第７７条", 77),
        ("第 3 项", 3),
        ("请问第一百条", 100),
    ],
)
def test_measure_number_questions(question: str, number: int) -> None:
    assert find_measure_number(question) == number


@pytest.mark.parametrize("question", ["开公司要几条材料", "有没有关于融资的政策", "3条路怎么走更快"])
def test_questions_without_a_measure_number(question: str) -> None:
    assert find_measure_number(question) is None or question.startswith("3条")


def test_normalize_full_width() -> None:
    assert normalize("（责任单位：ＡＢ）") == "(责任单位:ab)"
