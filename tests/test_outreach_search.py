"""Chinese full-text search (issue 9, point 1): jieba words with the project dictionary plus character
bigrams, BM25 (bm25s), traditional characters and full-width letters normalised, a one-character typo
tolerated; the same results on SQLite and PostgreSQL (the suite runs on both); the index follows the
catalogue through the version counter. Also the citizen page /me/search/ and GET /api/outreach/search."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from conftest import PASSWORD

pytestmark = pytest.mark.django_db

FIXTURE = Path(__file__).parent / "data" / "outreach"


@pytest.fixture
def catalogue(region: Any, django_capture_on_commit_callbacks: Any) -> None:
    from kepu.outreach.content_import import content_import

    with django_capture_on_commit_callbacks(execute=True):
        content_import(path=FIXTURE / "content", publish=True)


def codes(query: str) -> list[str]:
    from kepu.outreach.search import search

    return [r.code for r, _score in search(query)]


def test_ranking_on_the_fixture(catalogue: Any) -> None:
    from kepu.outreach.search import search

    assert codes("高血压") == ["t-hypertension"]
    assert codes("糖尿病预防") == ["t-diabetes"]
    hits = search("血压 慢性病")
    assert [r.code for r, _s in hits][:2] == ["t-hypertension", "t-diabetes"]
    assert hits[0][1] > hits[1][1] > 0
    assert codes("视频通话") == ["t-smartphone"]
    assert codes("量子纠缠") == []


def test_traditional_characters_find_the_simplified_piece(catalogue: Any) -> None:
    assert codes("高血壓")[0] == "t-hypertension"
    assert codes("識別電信詐騙")[0] == "t-fraud"
    assert codes("隔夜水會致癌嗎")[0] == "t-overnight-water"


def test_full_width_letters_and_digits_are_folded(catalogue: Any) -> None:
    assert codes("ＷＥＣＨＡＴ") == codes("wechat") == []  # not in the fixture, but folded alike
    assert codes("９６１１０")[0] == "t-fraud"


@pytest.mark.parametrize("typo, expected", [
    ("糖尿并预防", "t-diabetes"),  # 病 → 并
    ("高血鸭", "t-hypertension"),  # 压 → 鸭
    ("电信诈编", "t-fraud"),  # 骗 → 编
    ("视频通活", "t-smartphone"),  # 话 → 活
])
def test_a_one_character_typo_still_ranks_the_right_piece_first(catalogue: Any, typo: str, expected: str) -> None:
    assert codes(typo)[0] == expected


@pytest.mark.parametrize("userdict", ["project", "fixture"])
def test_the_user_dictionary_keeps_its_words_whole(settings: Any, userdict: str) -> None:
    from kepu.outreach import search

    if userdict == "fixture":
        settings.KEPU_OUTREACH_USERDICT = str(FIXTURE / "userdict.txt")
    else:  # data/outreach/userdict.txt, the default
        assert search.userdict_path() == Path(settings.REPO_DIR) / "data" / "outreach" / "userdict.txt"
    search._tokenizer.cache_clear()
    try:
        words = [t for t in search.tokens("喝隔夜水会致癌吗") if not t.startswith(search.BIGRAM)]
        assert "隔夜水" in words and "水会" not in words  # plain jieba: 喝/隔夜/水会/致癌
    finally:
        search._tokenizer.cache_clear()


def test_index_follows_publish_edit_and_archive(catalogue: Any, make_user: Any, settings: Any,
                                                 django_capture_on_commit_callbacks: Any) -> None:
    from kepu.outreach import search, services
    from kepu.outreach.models import Resource

    a = make_user("editor", ("editor", "320400", None))
    b = make_user("editor2", ("editor", "320400", None))
    before = search.index()
    with django_capture_on_commit_callbacks(execute=True):
        r = services.resource_create(actor=a, data={"code": "flu", "title_zh": "流感疫苗每年都要打"})
    assert codes("流感疫苗") == [] and search.index() is before  # a draft is not searchable
    with django_capture_on_commit_callbacks(execute=True):
        services.resource_review(actor=b, resource=r)
        services.resource_publish(actor=b, resource=r)
    assert codes("流感疫苗") == ["flu"] and search.index() is not before
    with django_capture_on_commit_callbacks(execute=True):
        services.resource_archive(actor=b, resource=Resource.objects.get(code="flu"))
    assert codes("流感疫苗") == []


def test_version_counter_rebuilds_the_index_in_every_process(catalogue: Any) -> None:
    from kepu.outreach import search

    built = search.index()
    assert search.index() is built  # cached
    search.bump_version()  # what another worker's publish does, through the shared cache
    assert search.index() is not built


def test_search_api_and_citizen_page(catalogue: Any, make_user: Any) -> None:
    anonymous = Client()
    assert anonymous.get("/api/outreach/search", {"q": "高血壓"}).status_code == 401
    reader = Client()
    reader.force_login(make_user("reader", ("viewer", "320400", None)))
    got = reader.get("/api/outreach/search", {"q": "高血壓"})
    assert got.status_code == 200
    body = got.json()
    assert body["items"][0]["code"] == "t-hypertension" and body["count"] == len(body["items"])
    assert reader.get("/api/outreach/search", {"q": ""}).status_code == 422
    page = anonymous.get("/me/search/", {"q": "电信詐騙"})
    html = page.content.decode()
    assert page.status_code == 200 and "/me/r/t-fraud/" in html and 'data-testid="search-results"' in html
    assert anonymous.get("/me/r/t-fraud/").status_code == 200
    staff = make_user("staff", ("viewer", "320400", None))
    c = Client()
    c.force_login(staff)
    assert c.get("/me/search/", {"q": "高血压"}).status_code == 403


def test_citizen_search_is_recorded_for_demand(catalogue: Any) -> None:
    from django.contrib.auth.models import User

    from kepu.citizens.models import Citizen
    from kepu.outreach.engagement_models import Interaction

    user = User.objects.create_user(username="c1", password=PASSWORD)
    Citizen.objects.create(user=user, pseudonym="p" * 64, age_band="50-59")
    c = Client()
    c.force_login(user)
    page = c.get("/me/search/", {"q": "高血压"})
    assert page.status_code == 200 and "/me/r/t-hypertension/" in page.content.decode()
    assert list(Interaction.objects.filter(citizen__user=user).values_list("kind", "query")) == [("search", "高血压")]
    assert c.get("/me/r/t-hypertension/").status_code == 200
    assert Interaction.objects.filter(citizen__user=user, kind="view", resource__code="t-hypertension").count() == 1
    assert c.get("/me/r/missing/").status_code == 404
