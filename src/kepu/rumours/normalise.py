"""Normalising a forwarded claim before it is matched, so that the same rumour in different clothes
reads the same: NFKC (full-width ５Ｇ → 5g), lower case, traditional → simplified (OpenCC, through
`kepu.core.chinese.normalise`), zero-width and other invisible characters dropped, HTML tags,
links and emoji removed, the chain-letter phrases that carry no claim (赶紧转给家人, 不转不是中国人)
cut, letters spaced out one by one (转 发 给 家 人) joined, and the usual filter-dodging spellings (谐音,
pinyin and abbreviations such as 鸡站, 致ai, yq) written back in characters.

The spelling list is short on purpose: it holds the evasions that pinyin cannot undo. Any other
homophone (a character for one that sounds the same) is caught by the pinyin tokens of the lexical
score (`kepu.rumours.lexical`), which compare sounds rather than characters."""

from __future__ import annotations

import re
import unicodedata

from kepu.core.chinese import normalise as _base

# Invisible characters used to dodge keyword filters: zero-width space/joiners, word joiner, BOM, soft hyphen.
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]")
_TAG = re.compile(r"<[^>]{0,200}>")
_URL = re.compile(r"(?:https?://|www\.)\S+")
# Chain-letter padding: calls to forward, fake urgency, no claim of their own.
_PADDING = re.compile(
    r"(赶紧|赶快|马上|快|速|务必|一定要|请|大家)?(转发|转给|转告|告诉|扩散|分享)(给)?(你的|您的)?"
    r"(家人|亲人|朋友|亲朋好友|家里人|群里|所有人|身边的人|大家)?(们)?(看看|知道)?"
    r"|家人们注意了?|不转不是中国人|转发积德|宁可信其有|看到请转|速看|紧急通知|重要提醒|千万别删|马上就删|是真的吗|真的假的"
)
# Filter-dodging spellings pinyin cannot undo (abbreviations, English letters for a syllable, visual tricks).
SPELLINGS = {
    "yq": "疫情", "xg": "新冠", "sj": "手机", "kt": "空调", "zf": "政府", "dz": "地震", "ym": "疫苗", "fs": "辐射",
    "hzs": "核酸",
    "5g鸡站": "5g基站", "鸡站": "基站", "致ai": "致癌", "ai症": "癌症", "yi苗": "疫苗", "新guan": "新冠",
    "ji站": "基站", "地zhen": "地震", "fu射": "辐射", "he污水": "核污水", "bing毒": "病毒", "du素": "毒素",
    "板兰根": "板蓝根", "隔液": "隔夜", "亚消酸": "亚硝酸",
}
_SPELLING = re.compile("|".join(sorted(map(re.escape, SPELLINGS), key=len, reverse=True)))
_CJK = r"[\u3400-\u9fff]"
# Characters spaced out one by one ("转 发 给 家 人"): drop a space that sits between two CJK characters.
_SPACED = re.compile(rf"(?<={_CJK})\s+(?={_CJK})")
_KEEP = re.compile(r"[^\w\u3400-\u9fff%.]+")


def strip_invisible(text: str) -> str:
    return _INVISIBLE.sub("", text)


def normalise(text: str) -> str:
    """The claim as matching sees it: one line of simplified Chinese, lower-case Latin letters and digits,
    single spaces between runs."""
    text = strip_invisible(unicodedata.normalize("NFKC", text or ""))
    text = _URL.sub(" ", _TAG.sub(" ", text))
    text = _base(text)
    text = _SPACED.sub("", text)
    text = _SPELLING.sub(lambda m: SPELLINGS[m.group(0)], text)
    text = _PADDING.sub(" ", text)
    text = _KEEP.sub(" ", text)  # punctuation, emoji and symbols become separators
    return " ".join(text.split())
