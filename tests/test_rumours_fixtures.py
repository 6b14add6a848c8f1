"""Shared fixtures of the rumours tests (imported by the other test_rumours_* files): an editor, a
talent-pool expert with an account, a second expert, citizens, a partner, and a helper that runs a
debunk through the whole workflow."""

from __future__ import annotations

from typing import Any

import pytest

PASSWORD = "test-pass-123"
CITIZEN_PASSWORD = "lotus-pond-2026"


@pytest.fixture
def rumour_people(users: dict[str, Any], make_user: Any) -> dict[str, Any]:
    from django.contrib.auth.models import User

    from kepu.community.services import expert_create
    from kepu.core.models import OrgUnit

    city = OrgUnit.objects.get(code="320400")
    people = dict(users)
    people["editor"] = make_user("editor", ("editor", "320400", None))
    people["editor_wujin"] = make_user("editor_wujin", ("editor", "320412", None))
    for name, field in (("expert", "医学"), ("expert2", "公共卫生")):
        account = User.objects.create_user(username=name, password=PASSWORD, first_name=f"{name}（演示）")
        expert_create(actor=users["office"], name=f"专家{name}（演示）", organisation="常州市疾病预防控制中心",
                      org_unit=city, fields=[field], roles=["emergency"], user=account)
        people[name] = account
    return people


@pytest.fixture
def citizen_of(region: Any) -> Any:
    from kepu.citizens.services import citizen_signup

    def make(name: str) -> Any:
        return citizen_signup(identifier=name, password=CITIZEN_PASSWORD)

    return make


def unit(code: str) -> Any:
    from kepu.core.models import OrgUnit

    return OrgUnit.objects.get(code=code)


def full_debunk(people: dict[str, Any], claims: list[Any], *, claim_text: str | None = None,
                verdict: str = "false") -> Any:
    """Open, assign, draft, submit (by the expert) and publish (by the reviewer) a debunk."""
    from kepu.rumours import services

    d = services.debunk_open(actor=people["editor"], claims=claims)
    services.debunk_assign(actor=people["editor"], debunk=d, expert=people["expert"])
    services.debunk_draft_save(
        actor=people["expert"], debunk=d, title="喝隔夜水会致癌？不会", claim_text=claim_text or claims[0].text,
        verdict=verdict, explanation="隔夜水中的亚硝酸盐含量极低，远低于饮用水标准限值，正常饮用不会致癌。",
        evidence="煮沸后存放 24 小时的开水，亚硝酸盐含量仍在每升 0.01 毫克量级。",
        sources=[{"url": "https://www.nhc.gov.cn/example", "title": "国家卫生健康委科普（演示）"}], topic="health")
    services.debunk_submit(actor=people["expert"], debunk=d)
    return services.debunk_publish(actor=people["reviewer"], debunk=d)


@pytest.fixture(autouse=True)
def fresh_rate_limits() -> Any:
    """Rate-limit counters live in the cache; each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def response_indicator(plan: Any) -> Any:
    """RUMOUR_RESPONSE_MEDIAN_HOURS in the plan: from the plan file once it is added there (the YAML block
    is in the report), else added here as the block defines it."""
    from kepu.plans.models import Indicator, Section

    existing = plan.indicators.filter(code="RUMOUR_RESPONSE_MEDIAN_HOURS").first()
    if existing is not None:
        return existing
    return Indicator.objects.create(
        plan=plan, code="RUMOUR_RESPONSE_MEDIAN_HOURS", name_zh="谣言线索从收到到发布辟谣答复的时间中位数",
        name_en="Median time from a rumour report to its published answer", unit="小时", aggregation="unit_mean",
        min_value=0, frequency="year",
        section=Section.objects.filter(programme__plan=plan, code="P4.3").first())
