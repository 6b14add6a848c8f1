"""Claim matching (issue 11, point 4): normalisation, pinyin restoration, the matcher's decisions and
margin rule, clustering, and the `kepu rumours match` command-line contract. No database."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kepu.rumours import matcher
from kepu.rumours.lexical import Restorer, swaps
from kepu.rumours.matcher import cluster_texts, match_claims
from kepu.rumours.normalise import normalise

ROOT = Path(__file__).resolve().parents[1]
KEPU = [sys.executable, "-m", "kepu.cli"]
DEBUNKS = [
    ("tea", "喝隔夜茶会致癌"),
    ("water", "隔夜水不能喝，喝了会中毒"),
    ("vinegar", "喝醋能软化血管"),
    ("5g", "5G基站会传播新冠病毒"),
    ("phone", "手机充电时打电话会爆炸"),
]


@pytest.mark.parametrize(("raw", "expected"), [
    ("５Ｇ鸡站传播新guan病毒！！赶紧转给家人🙏🙏", "5g基站传播新冠病毒"),  # full-width, 谐音, pinyin, padding, emoji
    ("喝隔夜茶會致癌，不轉不是中國人", "喝隔夜茶会致癌"),  # traditional characters and a chain-letter line
    ("转 发 给 家 人 ： 天天喝醋 血管就软了", "天天喝醋血管就软了"),  # spaced-out characters
    ("喝\u200b隔\u200d夜\ufeff茶", "喝隔夜茶"),  # zero-width characters
    ("<b>yq</b>期间喝白酒能杀毒 http://x.example/a", "疫情 期间喝白酒能杀毒"),  # markup, a link, an abbreviation
])
def test_normalise_undoes_the_disguises(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_pinyin_touching_characters_is_written_back_with_the_debunks_characters() -> None:
    restorer = Restorer([normalise(t) for _i, t in DEBUNKS] + ["口罩喷酒精消毒后就能重复使用"])
    assert restorer.restore("kou罩喷点jiu精就能反复用") == "口罩喷点酒精就能反复用"  # 酒精, not 就精: pairs decide
    assert restorer.restore("喝cu能软化xue管") == "喝醋能软化血管"
    assert restorer.restore("5g基站 share now") == "5g基站 share now"  # set apart by spaces: English, kept


def test_restatements_match_and_new_claims_on_the_same_topic_do_not() -> None:
    claims = [
        ("c1", "天天喝醋，血管就软了，是真的吗"),
        ("c2", "隔夜茶喝了致ai，赶紧告诉爸妈"),
        ("c3", "5g鸡站传播新guan病毒"),
        ("c4", "喝隔夜茶會致癌嗎？"),
        ("c5", "Drinking overnight tea causes cancer, forward to your family"),
        ("c6", "明天上午九点小区停水"),
    ]
    got = {m.id: m for m in match_claims(debunks=DEBUNKS, claims=claims)}
    assert [got[c].match for c in ("c1", "c2", "c3", "c4", "c5")] == ["vinegar", "tea", "5g", "tea", "tea"]
    assert got["c6"].match is None and got["c6"].confidence > 0.5  # confident that nothing answers it
    for m in got.values():
        assert 0.0 <= m.confidence <= 1.0


def test_a_close_debunk_is_not_mistaken_for_the_claim() -> None:
    """隔夜茶 is not 隔夜水: with only the tea debunk published, a water claim gets no answer."""
    only_tea = [DEBUNKS[0], DEBUNKS[2]]
    got = match_claims(debunks=only_tea, claims=[("w", "烧开的水放一夜就不能喝了，喝了会中毒")])
    assert got[0].match is None


def test_the_issues_example_a_tea_claim_in_the_water_debunks_words_gets_no_answer() -> None:
    """The claim repeats the 隔夜水 debunk word for word but for 茶: words, sounds and embedding all agree,
    and it is still a new rumour (for the lexical baseline too). The 隔夜水 forward in traditional characters
    still gets the answer."""
    water = [("water", "隔夜水喝了会致癌，千万不要喝隔夜的白开水")]
    claims = [("tea", "隔夜茶喝了会致癌，千万别喝"), ("again", "隔夜開水會致癌!!赶紧转给家人")]
    assert [m.match for m in match_claims(debunks=water, claims=claims)] == [None, "water"]
    assert match_claims(debunks=water, claims=claims[:1], semantic=False)[0].match is None


@pytest.mark.parametrize(("claim", "debunk", "expected"), [
    ("隔夜汤会产生致癌物，喝了会致癌", "隔夜茶会产生致癌物，喝了会致癌", [("汤", "茶")]),  # standalone nouns
    ("喝羊奶反而会导致骨质疏松", "喝牛奶反而会导致骨质疏松", [("羊奶", "牛奶")]),  # one character, common words
    ("吃鸡精会损害大脑，让孩子变笨", "吃味精会损害大脑，让孩子变笨", [("鸡精", "味精")]),
    ("大剂量补充维生素D能治好感冒", "大剂量补充维生素C能治好感冒", [("d", "c")]),  # Latin letters
    ("燃气灶泄漏会让全家人中毒身亡", "冰箱制冷剂泄漏会让全家人中毒身亡", [("燃气灶", "冰箱制冷剂")]),
    ("超市卖的紫莱是用黑色塑科袋做的", "市场上卖的紫菜是用黑色塑料袋做的", []),  # typos of the eye
    ("早上空肚喝蜂蜜水能清长排毒", "每天早上空腹喝蜂蜜水能清肠排毒", []),  # a rare word for a common one
    ("5g鸡站会传播新冠病毒", "5G基站会传播新冠病毒", []),  # a homophone
    ("孕妇坐gt辐射大，容易流产", "孕妇坐高铁辐射大，会导致流产", []),  # pinyin initials
    ("某地明天将发生8级以上大地震", "某地明天将发生7级以上大地震", []),  # forwards change numbers
    ("微波炉热的饭有辐射，吃了会致癌", "微波炉加热的食物带有辐射，吃了会致癌", []),  # 食物带 cuts a word
    ("每天喝醋能软化血管", "喝醋能治好感冒", []),  # too little of the wording agrees
])
def test_swaps_find_another_thing_in_the_same_words(claim: str, debunk: str, expected: list) -> None:
    assert swaps(normalise(claim), normalise(debunk)) == expected


def test_a_synonym_in_the_debunks_words_still_gets_the_answer() -> None:
    """儿童 for 孩子 is a swap of words, not of things: their embeddings agree (cosine ≥ SYNONYM)."""
    claim, debunk = normalise("打疫苗会导致儿童得自闭症"), normalise("打疫苗会导致孩子得自闭症")
    assert swaps(claim, debunk) == [("儿童", "孩子")]
    assert matcher.another_thing(claim, debunk, semantic=False)
    assert not matcher.another_thing(claim, debunk, semantic=True)
    got = match_claims(debunks=[("vax", "打疫苗会导致孩子得自闭症"), DEBUNKS[2]],
                       claims=[("s", "打疫苗会导致儿童得自闭症"), ("o", "打疫苗会导致孩子得多动症")])
    assert [m.match for m in got] == ["vax", None]


def _labelled_debunks() -> list[tuple[str, str]]:
    rows = []
    for path in sorted((ROOT / "bench" / "data" / "rumours").glob("*_debunks.jsonl")):
        rows += [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    return [(d["id"], d["claim"]) for d in rows]


def test_an_unanswered_claim_is_not_given_its_neighbours_answer() -> None:
    """The labelled list without its 隔夜茶 debunk (A01): 隔夜茶 claims get no answer, though 隔夜水 (A02)
    and 隔夜菜 (A03) are published; a 隔夜水 claim still gets A02."""
    debunks = [d for d in _labelled_debunks() if d[0] != "A01"]
    got = match_claims(debunks=debunks, claims=[("t1", "隔夜茶会致癌"), ("t2", "听说喝隔夜茶会得癌症，是真的吗"),
                                                 ("w", "喝隔夜的水会中毒")])
    assert [m.match for m in got] == [None, None, "A02"]


def test_a_single_published_debunk_does_not_answer_everything_near_it() -> None:
    """With one debunk the lead over "the next best" is measured against the fixed everyday sentences."""
    got = match_claims(debunks=[("g", "5G基站会传播病毒")],
                       claims=[("a", "自来水里检出新冠病毒"), ("b", "5g鸡站传播新guan")])
    assert [m.match for m in got] == [None, "g"]


def test_the_margin_rule_answers_no_match_when_two_debunks_are_equally_likely() -> None:
    model = matcher.Model((), matcher.np.zeros(1), threshold=0.5, margin=0.2)
    p = matcher.np.array([[0.9, 0.85, 0.1], [0.9, 0.3, 0.1], [0.4, 0.1, 0.0]])
    best, _p1, answered = matcher.decide(p, model)
    assert best.tolist() == [0, 0, 0]
    assert answered.tolist() == [False, True, False]  # too close to call / clear / below the threshold


def test_lexical_baseline_misses_english_that_the_embeddings_catch() -> None:
    claims = [("e", "Drinking vinegar every day softens your blood vessels")]
    assert match_claims(debunks=DEBUNKS, claims=claims, semantic=False)[0].match is None
    assert match_claims(debunks=DEBUNKS, claims=claims)[0].match == "vinegar"


def test_near_duplicates_share_a_cluster_and_other_claims_do_not() -> None:
    labels = cluster_texts([
        "5G基站传播新冠病毒，赶紧转给家人！",
        "５Ｇ基站传播新冠病毒🙏🙏",
        "5g鸡站传播新冠病毒 不转不是中国人",
        "喝隔夜茶会致癌！！！",
        "喝隔夜茶会致癌吗？家人们注意",
        "明天上午九点小区停水",
    ])
    assert labels[0] == labels[1] == labels[2]
    assert labels[3] == labels[4]
    assert len({labels[0], labels[3], labels[5]}) == 3


def test_calibration_file_describes_the_models_the_matcher_uses() -> None:
    doc = matcher.describe()
    assert doc["models"]["lexical"]["features"] == list(matcher.LEXICAL)
    assert doc["models"]["combined"]["features"] == list(matcher.COMBINED)
    for model in doc["models"].values():
        assert len(model["coef"]) == len(model["features"]) + 1
        assert 0 < model["threshold"] < 1 and 0 <= model["margin"] < 1


def _jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def test_command_line_contract(tmp_path: Path) -> None:
    d = _jsonl(tmp_path / "d.jsonl", [{"id": i, "claim": t} for i, t in DEBUNKS])
    c = _jsonl(tmp_path / "c.jsonl", [{"id": "z9", "text": "明天上午九点小区停水"},
                                      {"id": "a1", "text": "天天喝醋血管就软了，是真的吗"},
                                      {"id": "e2", "text": "Charging your phone while on a call makes it explode"}])
    env = {"KEPU_EMBEDDING_CACHE": str(tmp_path / "emb.sqlite3"), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([*KEPU, "rumours", "match", "--debunks", str(d), "--claims", str(c), "--json"],
                         capture_output=True, text=True, check=True, cwd=ROOT, env=env)
    data = json.loads(out.stdout)
    assert [o["id"] for o in data] == ["z9", "a1", "e2"]  # input order, not id order
    assert [o["match"] for o in data] == [None, "vinegar", "phone"]
    assert all(isinstance(o["confidence"], float) for o in data)
    assert (tmp_path / "emb.sqlite3").exists()  # vectors are kept for the next run


def test_command_line_names_every_bad_line_and_matches_nothing(tmp_path: Path) -> None:
    d = _jsonl(tmp_path / "d.jsonl", [{"id": "x", "claim": "喝醋能软化血管"}])
    c = tmp_path / "c.jsonl"
    c.write_text('{"id": "a", "text": "喝醋"}\nnot json\n{"id": "a", "text": "重复"}\n{"id": 3, "text": "x"}\n'
                 '{"id": "b", "text": 5}\n', "utf-8")
    proc = subprocess.run([*KEPU, "rumours", "match", "--debunks", str(d), "--claims", str(c), "--json"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 1 and proc.stdout == ""
    for expected in ("第 2 行：不是 JSON", "第 3 行：id a 重复", "第 4 行：id 应为非空字符串",
                     "第 5 行：text 应为字符串", "有 4 处错误"):
        assert expected in proc.stderr
