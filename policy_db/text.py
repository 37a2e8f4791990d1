"""Chinese text handling: normalisation, numerals, jieba tokenisation with the project's words."""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable

import jieba

jieba.setLogLevel(logging.WARNING)

CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
CN_NUMERAL = "[零〇一二两三四五六七八九十百]+"
MEASURE_NUMBER = re.compile(
    rf"(?:第\s*([0-9]+|{CN_NUMERAL})\s*[条项])|(?:^\s*([0-9]+|{CN_NUMERAL})\s*[条项](?![件款]))"
)
CJK = re.compile(r"[\u4e00-\u9fff]")
TOKEN_CHARS = re.compile(r"[\u4e00-\u9fffA-Za-z0-9+]")
# Words that make a message ask something ("…怎么申请", "…吗") rather than state it.
QUESTION_LIKE = re.compile(r"怎么|怎样|如何|吗|呢|哪|什么|多久|多少|能不能|是否|要不要|咋|？|\?")
QUOTED_TERM = re.compile(r"[“\"「『]([^”\"」』]{2,12})[”\"」』]")
# Single characters that carry no topic on their own.
FUNCTION_CHARS = set(
    "的了吗呢吧啊呀嘛么是在有和与及或我你他她它们要能会可怎哪个这那就都也还给让把被对从去来到想问请下些什"
    "么如何为啥咋谁几多少该得地着过又再很太更最没不"
)


def normalize(text: str) -> str:
    """NFKC (full-width letters, digits and punctuation to half-width), lower case, trimmed."""
    return unicodedata.normalize("NFKC", text).lower().strip()


def parse_chinese_number(token: str) -> int | None:
    """Parse 12, 十二, 二十三, 一百, 一百零五 (up to 999); None when it is not a number."""
    if token.isdigit():
        return int(token)
    if not token or any(ch not in CN_DIGITS and ch not in "十百" for ch in token):
        return None
    total, current = 0, 0
    for ch in token:
        if ch == "百":
            total += (current or 1) * 100
            current = 0
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = current * 10 + CN_DIGITS[ch] if current else CN_DIGITS[ch]
    return total + current


def find_measure_number(text: str) -> int | None:
    """The measure number a question asks for ("第12条", "第十二条", "12条"), if any."""
    match = MEASURE_NUMBER.search(normalize(text))
    if not match:
        return None
    return parse_chinese_number(match.group(1) or match.group(2))


def reads_as_question(text: str) -> bool:
    """True when a message asks something rather than states something."""
    return bool(QUESTION_LIKE.search(text))


def quoted_terms(text: str) -> list[str]:
    """Terms a plan puts in quotes (“一网通办”, “批次贷”): good dictionary words."""
    return [t.strip() for t in QUOTED_TERM.findall(text) if CJK.search(t)]


def char_bigrams(text: str) -> list[str]:
    """Overlapping pairs of Chinese characters, a segmentation-independent feature."""
    runs = re.findall(r"[\u4e00-\u9fff]+", text)
    return [run[i : i + 2] for run in runs for i in range(len(run) - 1)]


_BASE: jieba.Tokenizer | None = None
_BASE_LOCK = threading.Lock()


def _new_jieba() -> jieba.Tokenizer:
    """A jieba tokenizer sharing the loaded main dictionary (loading it takes seconds)."""
    global _BASE
    with _BASE_LOCK:
        if _BASE is None:
            _BASE = jieba.Tokenizer()
            _BASE.initialize()
    tokenizer = jieba.Tokenizer()
    tokenizer.FREQ, tokenizer.total = dict(_BASE.FREQ), _BASE.total
    tokenizer.initialized = True
    return tokenizer


class PolicyTokenizer:
    """A private jieba tokenizer that knows the policy database's words and stopwords."""

    def __init__(self, words: Iterable[str] = (), stopwords: Iterable[str] = ()) -> None:
        self._jieba = _new_jieba()
        self.stopwords = {normalize(w) for w in stopwords}
        self.words: set[str] = set()
        self.add_words(words)

    def add_words(self, words: Iterable[str]) -> None:
        """Teach jieba new words (unit names, quoted terms, lexicon entries)."""
        for word in words:
            word = normalize(word)
            if len(word) >= 2 and word not in self.words and " " not in word:
                self._jieba.add_word(word, freq=max(2000, 500 * len(word)))
                self.words.add(word)

    def tokens(self, text: str) -> list[str]:
        """Content tokens of `text` in search mode (long words and their parts), stopwords removed."""
        result = []
        for token in self._jieba.cut_for_search(normalize(text)):
            token = token.strip()
            if not token or not TOKEN_CHARS.search(token) or token in self.stopwords:
                continue
            if len(token) == 1 and token in FUNCTION_CHARS:
                continue
            result.append(token)
        return result
