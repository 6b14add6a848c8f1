"""The base lifecycle end to end: application → expert review against the rubric → certification →
annual review → renewal or revocation, with the plan's targets moving in the same transaction and
moving back on undo; and the bad input each step refuses."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import AuditEntry, OrgUnit
from kepu.facilities import services as svc
from kepu.facilities.models import Application, Base, RubricCriterion
from kepu.plans.models import Observation, TargetStatus

FULL = {"facilities": 22, "content": 20, "staff": 16, "openness": 16, "management": 8}  # 82 of 100


@pytest.fixture
def experts(users: dict[str, Any], make_user: Any) -> dict[str, Any]:
    from kepu.community.services import expert_create

    wu = OrgUnit.objects.get(code="320412")
    out = {}
    for username, org in (("exp_a", "常州大学"), ("exp_b", "常州市科技馆"), ("exp_c", "河海大学常州校区")):
        user = make_user(username)
        expert_create(actor=users["office"], name=f"专家{username[-1]}", organisation=org, org_unit=wu,
                      roles=["reviewer"], user=user)
        out[username] = user
    return out


def _apply(users: dict[str, Any], *, kind: str = "general", town: str = "320412100",
           org: str = "武进区某科普馆（演示）", name: str = "武进科普基地（演示）", who: str = "wujin",
           level: str = "municipal") -> Application:
    unit = OrgUnit.objects.filter(code=town).first() or OrgUnit.objects.get(code="320412")
    return svc.application_submit(actor=users[who], name=name, kind=kind, level=level, organisation=org,
                                  org_unit=unit, description="面向中小学生开放的科普展厅。", evidence="开放记录")


def _reviewed(users: dict[str, Any], experts: dict[str, Any], scores: dict[str, int] = FULL, **kw: Any) -> Application:
    app = _apply(users, **kw)
    a = svc.review_assign(actor=users["office"], application=app, reviewer=experts["exp_a"])
    svc.review_submit(actor=experts["exp_a"], assignment=a, scores=scores)
    return Application.objects.get(pk=app.pk)


def _status(code: str, unit: str) -> TargetStatus:
    return TargetStatus.objects.get(target__code=code, target__plan__code__isnull=False, org_unit__code=unit,
                                     target__plan__region__code="320400", target__plan__parent__isnull=True)


def _obs(indicator: str, unit: str, year: int) -> float | None:
    o = Observation.objects.filter(indicator__code=indicator, org_unit__code=unit, year=year, quarter=0,
                                   status="approved").first()
    return o.value if o else None


def test_certifying_a_base_moves_t18_for_city_and_district_and_revoking_moves_it_back(
        users: dict[str, Any], experts: dict[str, Any], django_capture_on_commit_callbacks: Any) -> None:
    # Given 武进区 has no municipal base designated yet
    before_city, before_wj = _status("T18", "320400"), _status("T18", "320412")
    assert before_wj.current is None
    app = _reviewed(users, experts)
    # When the office certifies it in 2025 (a year inside T18's period)
    with django_capture_on_commit_callbacks(execute=True):
        base = svc.application_certify(actor=users["office"], application=app, on=dt.date(2025, 5, 1))
    # Then 武进区 and the city each have one newly designated municipal base in 2025
    assert _obs("SCI_BASES_CITY_NEW", "320412", 2025) == 1
    assert _obs("SCI_BASES_CITY_NEW", "320400", 2025) == 1
    assert _obs("SCI_BASES_ACTIVE", "320412", 2026) == 1
    wj, city = _status("T18", "320412"), _status("T18", "320400")
    assert wj.current == 1 and city.current == 1
    assert before_city.current != city.current
    # And 新北区, with no base, still has no value
    assert _status("T18", "320411").current is None
    # When the base is revoked
    with django_capture_on_commit_callbacks(execute=True):
        svc.base_revoke(actor=users["office"], base=base, reason="弄虚作假")
    # Then the designation no longer counts, for the district and the city
    assert _obs("SCI_BASES_CITY_NEW", "320412", 2025) == 0
    assert _obs("SCI_BASES_ACTIVE", "320412", 2026) == 0
    assert _status("T18", "320412").current == 0
    assert _status("T18", "320400").current == 0
    assert AuditEntry.objects.filter(action="facilities.revoke", object_id=str(base.pk)).count() == 1


def test_kinds_and_levels_feed_their_own_targets(users: dict[str, Any], experts: dict[str, Any],
                                                 django_capture_on_commit_callbacks: Any) -> None:
    cases = [("stem", "municipal", "STEM_BASES_CITY"), ("stem", "provincial", "STEM_BASES_PROV"),
             ("school", "municipal", "SCHOOLS_SCI_CITY"), ("school", "national", "SCHOOLS_SCI_PROV"),
             ("general", "provincial", "SCI_BASES_PROV")]
    for i, (kind, level, _code) in enumerate(cases):
        app = _reviewed(users, experts, kind=kind, name=f"基地{i}（演示）", org=f"单位{i}（演示）")
        with django_capture_on_commit_callbacks(execute=True):
            svc.application_certify(actor=users["office"], application=app, level=level, on=dt.date(2024, 3, 1))
    for _kind, _level, code in cases:
        assert _obs(code, "320412", 2024) == 1, code
        assert _obs(code, "320400", 2024) == 1, code
    # A provincial base is not a newly designated municipal one
    assert _obs("SCI_BASES_CITY_NEW", "320412", 2024) == 0
    assert _status("T04", "320400").current == 1  # provincial STEM bases, a city-only target
    assert _status("T03", "320412").current == 1  # municipal demonstration schools


def test_elderly_university_coverage_is_the_share_of_districts(users: dict[str, Any], experts: dict[str, Any],
                                                               django_capture_on_commit_callbacks: Any) -> None:
    app = _reviewed(users, experts, kind="elderly", name="武进老年科技大学（演示）", org="武进区老年大学（演示）")
    with django_capture_on_commit_callbacks(execute=True):
        svc.application_certify(actor=users["office"], application=app, on=dt.date(2025, 9, 1))
    assert _obs("ELDERLY_TECH_UNIV_COVERAGE", "320412", 2025) == 100
    assert _obs("ELDERLY_TECH_UNIV_COVERAGE", "320411", 2025) == 0
    districts = OrgUnit.objects.filter(parent__code="320400", level="district").count()
    assert _obs("ELDERLY_TECH_UNIV_COVERAGE", "320400", 2025) == round(100 / districts, 1)
    assert _status("T17", "320400").current == round(100 / districts, 1)


def test_expired_base_stops_counting_and_cannot_be_reviewed_or_renewed(
        users: dict[str, Any], experts: dict[str, Any], django_capture_on_commit_callbacks: Any) -> None:
    app = _reviewed(users, experts)
    base = svc.application_certify(actor=users["office"], application=app, on=dt.date(2022, 1, 10),
                                   valid_until=dt.date(2024, 12, 31))
    svc.bases_expire(city=OrgUnit.objects.get(code="320400"))
    # The 2022 designation still counts as newly designated in 2022; it is no longer in force in 2025
    assert _obs("SCI_BASES_CITY_NEW", "320412", 2022) == 1
    assert _obs("SCI_BASES_ACTIVE", "320412", 2024) == 1
    assert _obs("SCI_BASES_ACTIVE", "320412", 2025) == 0
    audit = AuditEntry.objects.count()
    with pytest.raises(InputError, match=r"已于 2024-12-31 到期.*重新提交认定申请"):
        svc.base_annual_review(actor=users["office"], base=base, year=2025, result="pass")
    with pytest.raises(InputError, match=r"到期.*重新提交认定申请"):
        svc.base_renew(actor=users["office"], base=base, valid_until=dt.date(2028, 12, 31))
    assert AuditEntry.objects.count() == audit
    assert Base.objects.get(pk=base.pk).valid_until == dt.date(2024, 12, 31)
    # A new application for the same base re-certifies it, without a second "new" designation
    again = svc.application_submit(actor=users["wujin"], name=base.name, kind="general", organisation=base.organisation,
                                   org_unit=base.org_unit, description="重新申请", base=base)
    a = svc.review_assign(actor=users["office"], application=again, reviewer=experts["exp_b"])
    svc.review_submit(actor=experts["exp_b"], assignment=a, scores=FULL)
    svc.application_certify(actor=users["office"], application=again)
    assert Base.objects.count() == 1
    assert _obs("SCI_BASES_CITY_NEW", "320412", 2022) == 1
    assert _obs("SCI_BASES_ACTIVE", "320412", 2026) == 1


def test_annual_review_fail_revokes_and_pass_then_renew(users: dict[str, Any], experts: dict[str, Any]) -> None:
    app = _reviewed(users, experts)
    base = svc.application_certify(actor=users["office"], application=app, on=dt.date(2024, 6, 1))
    svc.base_annual_review(actor=users["office"], base=base, year=2025, result="pass")
    with pytest.raises(InputError, match="2025 年度复核已经录入"):
        svc.base_annual_review(actor=users["office"], base=base, year=2025, result="improve")
    renewed = svc.base_renew(actor=users["office"], base=base, valid_until=dt.date(2030, 5, 31))
    assert renewed.valid_until == dt.date(2030, 5, 31)
    svc.base_annual_review(actor=users["office"], base=base, year=2026, result="fail", comment="全年未开放")
    base.refresh_from_db()
    assert base.revoked_on is not None and "不合格" in base.revoke_reason
    assert _obs("SCI_BASES_CITY_NEW", "320412", 2024) == 0
    with pytest.raises(InputError, match=r"撤销.*重新提交认定申请"):
        svc.base_renew(actor=users["office"], base=base, valid_until=dt.date(2031, 1, 1))


def test_conflicted_expert_is_refused(users: dict[str, Any], experts: dict[str, Any]) -> None:
    # exp_b works at 常州市科技馆; the applicant is the same museum with a bracketed branch name
    app = _apply(users, org="常州市科技馆（分馆）")
    with pytest.raises(InputError, match="利益冲突"):
        svc.review_assign(actor=users["office"], application=app, reviewer=experts["exp_b"])
    assert not app.reviews.exists()
    assert Application.objects.get(pk=app.pk).status == "submitted"


def test_non_expert_cannot_be_assigned(users: dict[str, Any], experts: dict[str, Any]) -> None:
    app = _apply(users)
    with pytest.raises(InputError, match="不是科普人才库中的专家"):
        svc.review_assign(actor=users["office"], application=app, reviewer=users["viewer_wujin"])


def test_score_above_a_criterion_max_is_refused_naming_it(users: dict[str, Any], experts: dict[str, Any]) -> None:
    app = _apply(users)
    a = svc.review_assign(actor=users["office"], application=app, reviewer=experts["exp_a"])
    with pytest.raises(InputError) as info:
        svc.review_submit(actor=experts["exp_a"], assignment=a, scores={**FULL, "management": 12, "staff": "x"})
    assert "管理制度与安全保障：得分须在 0 到 10 分之间，得到 12。" in info.value.errors
    assert "专兼职科普队伍：需要数字，得到“x”。" in info.value.errors
    a.refresh_from_db()
    assert a.submitted_at is None and a.scores == {}
    # Another expert may not score someone else's assignment
    with pytest.raises(PermissionDenied):
        svc.review_submit(actor=experts["exp_c"], assignment=a, scores=FULL)


def test_rubric_is_data(users: dict[str, Any], experts: dict[str, Any]) -> None:
    app = _apply(users)
    svc.review_assign(actor=users["office"], application=app, reviewer=experts["exp_a"])
    assert sum(RubricCriterion.objects.values_list("max_points", flat=True)) == 100
    RubricCriterion.objects.filter(code="management").update(max_points=20)
    a = app.reviews.get()
    svc.review_submit(actor=experts["exp_a"], assignment=a, scores={**FULL, "management": 18})
    a.refresh_from_db()
    assert a.total == 82 - 8 + 18


def test_below_pass_mark_is_not_certified(users: dict[str, Any], experts: dict[str, Any]) -> None:
    low = {"facilities": 10, "content": 10, "staff": 10, "openness": 10, "management": 5}  # 45 < 60
    app = _reviewed(users, experts, scores=low)
    with pytest.raises(InputError, match=r"平均分 45.0 低于合格线 60 分"):
        svc.application_certify(actor=users["office"], application=app)
    assert not Base.objects.exists()


def test_nobody_certifies_their_own_application_or_out_of_scope(users: dict[str, Any], experts: dict[str, Any],
                                                                make_user: Any) -> None:
    own = _reviewed(users, experts, who="office")
    with pytest.raises(PermissionDenied, match="不能认定自己提交的申请"):
        svc.application_certify(actor=users["office"], application=own)
    other = _reviewed(users, experts, name="另一个基地（演示）")
    # A district officer cannot certify, not even in their own district
    with pytest.raises(PermissionDenied):
        svc.application_certify(actor=users["wujin"], application=other)
    # An office admin of another district's scope cannot either
    xinbei_admin = make_user("xb_admin", ("office_admin", "320411", None))
    with pytest.raises(PermissionDenied):
        svc.application_certify(actor=xinbei_admin, application=other)
    # Nor may 新北区 apply for a unit in 武进区
    with pytest.raises(PermissionDenied):
        _apply(users, who="xinbei")
    assert not Base.objects.exists()
    # A second office admin may certify the first one's application
    second = make_user("office2", ("office_admin", "320400", None))
    assert svc.application_certify(actor=second, application=own).pk


def test_application_requires_its_fields(users: dict[str, Any]) -> None:
    with pytest.raises(InputError) as info:
        svc.application_submit(actor=users["wujin"], name="", kind="museum", organisation="x",
                               org_unit=OrgUnit.objects.get(code="320412"), description="")
    assert "基地名称：必填。" in info.value.errors
    assert "基本情况：必填。" in info.value.errors
    assert any(e.startswith("类型：无法识别“museum”") for e in info.value.errors)
    assert not Application.objects.exists()
