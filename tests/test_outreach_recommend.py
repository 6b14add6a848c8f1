"""Recommendations (kepu.outreach.recommend), the feed page and the offline evaluation."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from conftest import PASSWORD
from tests.test_outreach_segments import TIANNING, WUJIN, _interact, _published_wave, _topic, make_citizen


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Row ids repeat between tests (rolled back), so cached co-occurrence/wave sums must not leak."""
    from django.core.cache import cache

    cache.clear()

# --- the pure ranking ------------------------------------------------------------------------------


def _items(n: int, **kw: Any) -> Any:
    from kepu.outreach.recommend import Items

    base: dict[str, Any] = {
        "topics": [frozenset({f"t{i}"}) for i in range(n)],
        "dimensions": [("knowledge",)] * n,
        "key_groups": [frozenset()] * n,
        "age_bands": [frozenset()] * n,
        "age_days": np.full(n, 10.0),
        "popularity": np.zeros(n),
    }
    base.update(kw)
    return Items(**base)


def test_each_signal_moves_its_item_up() -> None:
    from kepu.outreach.recommend import Person, score, top_k

    p = Person(key_groups=frozenset({"farmers"}), age_band="50-59", interests=frozenset({"t1"}),
               weak=("method", "knowledge"))
    # item 1: declared interest; others equal
    assert top_k(score(_items(3), p), 1) == [1]
    # item 2 trains the weakest dimension
    dims = [("knowledge",), ("knowledge",), ("method",)]
    assert top_k(score(_items(3, dimensions=dims, topics=[frozenset()] * 3), p), 1) == [2]
    # item 0 targets the person's group, item 1 another group
    groups = [frozenset({"farmers"}), frozenset({"workers"}), frozenset()]
    assert top_k(score(_items(3, key_groups=groups, topics=[frozenset()] * 3), p), 3) == [0, 2, 1]
    # fresher first, then more popular first
    assert top_k(score(_items(2, age_days=np.array([300.0, 1.0]), topics=[frozenset()] * 2), p), 1) == [1]
    assert top_k(score(_items(2, popularity=np.array([1.0, 50.0]), topics=[frozenset()] * 2), p), 1) == [1]


def test_collaborative_signal_and_history() -> None:
    from kepu.outreach.recommend import Person, cooccurrence, score, top_k

    # users 0-2 opened items 0 and 2 together; item 1 stands alone
    x = sp.csr_matrix(np.array([[1, 0, 1], [1, 0, 1], [1, 0, 1], [0, 1, 0]]))
    sim = cooccurrence(x, 3)
    assert sim[0, 2] == pytest.approx(1.0) and sim[0, 1] == 0 and sim[0, 0] == 0
    p = Person(done={0})
    s = score(_items(3, topics=[frozenset()] * 3), p, sim)
    assert s[0] == -np.inf  # completed: never again
    assert top_k(s, 3) == [2, 1]


def test_non_personal_ranking_ignores_the_person() -> None:
    from kepu.outreach.recommend import Person, score, top_k

    items = _items(2, popularity=np.array([0.0, 9.0]))
    p = Person(interests=frozenset({"t0"}), weak=("knowledge",), personal=False)
    assert top_k(score(items, p), 2) == [1, 0]
    p.personal = True
    assert top_k(score(items, p), 2) == [0, 1]


# --- the feed from the database --------------------------------------------------------------------


def _res(code: str, topics: list[Any], *, days_old: float = 5, regions: list[str] = (), **kw: Any) -> Any:
    from kepu.core.models import OrgUnit
    from kepu.outreach.models import Resource

    r = Resource.objects.create(code=code, title_zh=f"标题{code}", summary_zh=f"摘要{code}", status="published",
                                published_at=timezone.now() - dt.timedelta(days=days_old), **kw)
    r.topics.set(topics)
    r.regions.set(OrgUnit.objects.filter(code__in=regions))
    return r


@pytest.fixture
def catalogue(region: Any) -> dict[str, Any]:
    health, farming, phone = _topic("health"), _topic("farming"), _topic("phone")
    res = {
        "popular": _res("popular", [phone], dimensions=["knowledge"]),
        "farm_method": _res("farm-method", [farming], dimensions=["method"], key_groups=["farmers"]),
        "health": _res("health-1", [health], dimensions=["knowledge"]),
        "tianning_only": _res("tianning-only", [farming], regions=[TIANNING], key_groups=["farmers"]),
        "draft": None,
    }
    from kepu.outreach.models import Resource

    res["draft"] = Resource.objects.create(code="draft-1", title_zh="草稿", status="draft")
    crowd = [make_citizen(f"crowd-{i}", district=WUJIN, key_groups=["workers"]) for i in range(6)]
    for c in crowd:
        _interact(c, res["popular"], "view", 1)
    for c in crowd[:3]:  # those who read health also read farm-method
        _interact(c, res["health"], "view", 2)
        _interact(c, res["farm_method"], "view", 2)
    return res


def _codes(items: list[Any]) -> list[str]:
    return [i.resource.code for i in items]


def test_visitor_feed_is_the_popular_feed(catalogue: dict[str, Any]) -> None:
    from kepu.outreach.recommend import feed

    codes = _codes(feed(None))
    assert codes[0] == "popular"
    assert "draft-1" not in codes
    assert set(codes) == {"popular", "farm-method", "health-1"}  # a visitor has no district: whole-city pieces


def test_personal_feed_blends_fit_interest_weak_spots_and_neighbours(catalogue: dict[str, Any], region: Any) -> None:
    from kepu.outreach.recommend import feed

    _published_wave([("farmers", WUJIN, 40, {"knowledge": 0.8, "method": 0.2, "spirit": 0.6, "application": 0.5})])
    farmer = make_citizen("farmer-x", district=WUJIN, key_groups=["farmers"], interests=["farming"],
                          consents={"personalise": True})
    items = feed(farmer)
    codes = _codes(items)
    # Wujin farmers are weakest in method; the piece is for farmers, on a topic they follow.
    assert codes[0] == "farm-method"
    assert "tianning-only" not in codes  # another district's piece never appears
    assert set(items[0].reasons) <= {"fit", "interest", "weak", "collaborative", "fresh", "popular"}
    # Having completed it, it is gone; having read health, its co-read neighbour would come back first.
    _interact(farmer, catalogue["farm_method"], "complete", 0)
    assert "farm-method" not in _codes(feed(farmer))


def test_collaborative_signal_from_interactions(catalogue: dict[str, Any]) -> None:
    from kepu.outreach.recommend import feed

    reader = make_citizen("reader", district=WUJIN, key_groups=["workers"], consents={"personalise": True})
    _interact(reader, catalogue["health"], "complete", 1)
    items = feed(reader)
    assert _codes(items)[0] == "farm-method"
    assert "collaborative" in items[0].reasons


def test_without_consent_the_feed_is_not_personal(catalogue: dict[str, Any]) -> None:
    from kepu.citizens.models import Consent
    from kepu.outreach.recommend import feed

    farmer = make_citizen("farmer-y", district=WUJIN, key_groups=["farmers"], interests=["farming"],
                          consents={"personalise": True})
    assert _codes(feed(farmer))[0] == "farm-method"
    Consent.objects.create(citizen=farmer, purpose="personalise", granted=False)
    codes = _codes(feed(farmer))
    assert codes[0] == "popular"  # regional fit and popularity only
    assert "tianning-only" not in codes  # still the citizen's region


# --- the feed page ---------------------------------------------------------------------------------


def test_feed_page_for_visitors_citizens_and_staff(catalogue: dict[str, Any], make_user: Any) -> None:
    visitor = Client().get("/me/")
    assert visitor.status_code == 200
    html = visitor.content.decode()
    assert 'data-testid="feed-visitor"' in html and html.index("标题popular") < html.index("标题health-1")
    assert Client().get("/me/feed/").status_code == 200

    make_citizen("farmer-z", district=WUJIN, key_groups=["farmers"], interests=["farming"],
                 consents={"personalise": True})
    client = Client()
    assert client.login(username="farmer-z", password=PASSWORD)
    html = client.get("/me/").content.decode()
    assert "为您推荐" in html and "标题tianning-only" not in html
    assert html.index("标题farm-method") < html.index("标题popular")
    assert "帮您补短板" in html or "您关注的主题" in html

    make_user("staffer", ("viewer", "320400", None))
    staff = Client()
    assert staff.login(username="staffer", password=PASSWORD)
    assert staff.get("/me/").status_code == 403


# --- offline evaluation ----------------------------------------------------------------------------


def test_model_beats_popularity_offline() -> None:
    from kepu.outreach.evaluate import evaluate

    for seed in (1, 2):
        r = evaluate(seed=seed, n_people=300, use_database=False)
        assert r["model"]["recall@10"] > r["popularity"]["recall@10"]
        assert r["model"]["ndcg@10"] > r["popularity"]["ndcg@10"]


def test_evaluate_synthetic_log_holds_out_the_latest_interactions() -> None:
    from kepu.outreach.evaluate import synthetic_catalogue, synthetic_log

    rng = np.random.default_rng(3)
    cat = synthetic_catalogue(rng, n_items=60)
    log = synthetic_log(cat, rng, n_people=40)
    for train, test in zip(log.train, log.test, strict=True):
        assert test and not (set(train) & test)
        assert len(test) == max(1, round(0.2 * (len(train) + len(test))))
    # the ranker sees observed features only: no latent affinity or appeal is stored on a person
    assert set(vars(log.people[0])) == {"key_groups", "age_band", "interests", "weak", "seen", "done", "personal"}


def test_evaluate_command_prints_the_contract_json(db: Any) -> None:
    out = io.StringIO()
    call_command("outreach", "evaluate", "--json", "--people", "200", "--seed", "5", stdout=out)
    data = json.loads(out.getvalue())
    assert set(data) == {"model", "popularity"}
    for side in data.values():
        assert set(side) == {"recall@10", "ndcg@10"} and all(0 <= v <= 1 for v in side.values())
    assert data["model"]["ndcg@10"] > data["popularity"]["ndcg@10"]
