"""Recognition: nominations → review → award → revoke, SCI_HONOURS moving with them, scope,
no self-review/self-award, conflict of interest, awards_for, Excel import/export."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from kepu.community.services import expert_create
from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import AuditEntry, OrgUnit
from kepu.plans.models import Observation
from kepu.recognition import excel, services
from kepu.recognition.models import Honour, HonourAward, Nomination
from kepu.recognition.selectors import awards_for, nominations_visible

pytestmark = pytest.mark.django_db


def unit(code: str) -> OrgUnit:
    return OrgUnit.objects.get(code=code)


def honours(users: dict[str, Any]) -> dict[str, Honour]:
    return {h.code: h for h in services.plan_honours_ensure(actor=users["office"], city=unit("320400"))}


def obs(unit_code: str, year: int = 2026) -> float | None:
    o = Observation.objects.filter(indicator__code="SCI_HONOURS", org_unit__code=unit_code, year=year).first()
    return o.value if o else None


def nominate_wujin_student(users: dict[str, Any], h: dict[str, Honour], **kw: Any) -> Nomination:
    return services.nomination_create(
        actor=users["wujin"], honour=h["CZ-MAYOR-YOUTH"], year=2026, kind="individual", org_unit=unit("320412"),
        person_name="李明（演示）", organisation="武进区湖塘实验中学", reason="发明了节水灌溉装置", **kw)


def test_award_and_revoke_move_sci_honours(users: dict[str, Any]) -> None:
    h = honours(users)
    n = nominate_wujin_student(users, h)
    services.nomination_review(actor=users["reviewer"], nomination=n, recommend=True, score=92)
    assert obs("320412") is None
    award = services.award_decide(actor=users["office"], nomination=n, certificate_no="CZ2026-001")
    assert (obs("320412"), obs("320400")) == (1.0, 1.0)
    services.award_revoke(actor=users["office"], award=award, reason="材料不实")
    assert (obs("320412"), obs("320400")) == (0.0, 0.0)
    n.refresh_from_db()
    assert n.status == Nomination.Status.REVOKED
    assert AuditEntry.objects.filter(action="recognition.revoke", comment="材料不实").exists()


def test_collective_award_counts_in_its_district(users: dict[str, Any]) -> None:
    h = honours(users)
    n = services.nomination_create(actor=users["xinbei"], honour=h["CZ-SCI-COLLECTIVE"], year=2026,
                                   kind="collective", org_unit=unit("320411"), reason="科普进社区成效显著")
    assert n.collective_name == "新北区"
    services.nomination_review(actor=users["reviewer"], nomination=n, recommend=True)
    services.award_decide(actor=users["office"], nomination=n)
    assert obs("320411") == 1.0 and obs("320412") is None
    assert [a["nominee"] for a in awards_for(org_unit_code="320411")] == ["新北区"]
    assert awards_for(org_unit_code="320412") == []


def test_nobody_reviews_or_awards_their_own_nomination(users: dict[str, Any], make_user: Any) -> None:
    h = honours(users)
    n = services.nomination_create(actor=users["office"], honour=h["CZ-SCI-INDIVIDUAL"], year=2026,
                                   kind="individual", org_unit=unit("320400"), person_name="王芳（演示）",
                                   organisation="常州市科协", reason="长期从事科普")
    with pytest.raises(PermissionDenied):
        services.nomination_review(actor=users["office"], nomination=n, recommend=True)
    services.nomination_review(actor=users["reviewer"], nomination=n, recommend=True)
    with pytest.raises(PermissionDenied, match="自己"):
        services.award_decide(actor=users["office"], nomination=n)
    assert not HonourAward.objects.exists()
    office2 = make_user("office2", ("office_admin", "320400", None))
    services.award_decide(actor=office2, nomination=n)
    assert HonourAward.objects.count() == 1


def test_award_needs_a_recommending_review(users: dict[str, Any]) -> None:
    h = honours(users)
    n = nominate_wujin_student(users, h)
    with pytest.raises(InputError, match="推荐"):
        services.award_decide(actor=users["office"], nomination=n)
    services.nomination_review(actor=users["reviewer"], nomination=n, recommend=False, score=40)
    with pytest.raises(InputError):
        services.award_decide(actor=users["office"], nomination=n)


def test_conflicted_expert_reviewer_is_refused(users: dict[str, Any], make_user: Any) -> None:
    h = honours(users)
    n = nominate_wujin_student(users, h)
    expert_user = make_user("expert_hutang", ("reviewer", "320400", None))
    expert_create(actor=users["office"], name="张老师（演示）", organisation="武进区湖塘实验中学",
                  org_unit=unit("320412"), user=expert_user)
    with pytest.raises(InputError, match="利益冲突"):
        services.nomination_review(actor=expert_user, nomination=n, recommend=True, score=99)
    assert not n.reviews.exists()


def test_district_scope_for_nominations(users: dict[str, Any]) -> None:
    h = honours(users)
    with pytest.raises(PermissionDenied):
        services.nomination_create(actor=users["wujin"], honour=h["CZ-MAYOR-YOUTH"], year=2026, kind="individual",
                                   org_unit=unit("320411"), person_name="赵六", organisation="新北区某校",
                                   reason="理由")
    n = nominate_wujin_student(users, h)
    assert list(nominations_visible(users["wujin"])) == [n]
    assert list(nominations_visible(users["xinbei"])) == []
    with pytest.raises(PermissionDenied):
        services.award_decide(actor=users["wujin"], nomination=n)


def test_wrong_kind_for_honour_is_refused(users: dict[str, Any]) -> None:
    h = honours(users)
    with pytest.raises(InputError, match="只授予"):
        services.nomination_create(actor=users["wujin"], honour=h["CZ-MAYOR-YOUTH"], year=2026, kind="collective",
                                   org_unit=unit("320412"), reason="理由")


def test_awards_for_person_by_account(users: dict[str, Any], make_user: Any) -> None:
    h = honours(users)
    student = make_user("student1")
    n = nominate_wujin_student(users, h, nominee_user=student)
    services.nomination_review(actor=users["reviewer"], nomination=n, recommend=True)
    award = services.award_decide(actor=users["office"], nomination=n)
    found = awards_for(user_id=student.pk)
    assert [(a["honour"], a["year"]) for a in found] == [("常州市青少年科技创新市长奖", 2026)]
    assert awards_for(organisation="武进区湖塘实验中学")[0]["nominee"] == "李明（演示）"
    services.award_revoke(actor=users["office"], award=award, reason="撤销")
    assert awards_for(user_id=student.pk) == []


def _xlsx(rows: list[list[Any]]) -> bytes:
    wb = Workbook()
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_nomination_import_all_or_nothing(users: dict[str, Any]) -> None:
    honours(users)
    content = _xlsx([
        excel.HEADERS[:9],
        ["CZ-MAYOR-YOUTH", 2026, "个人", "陈一（演示）", "武进区某中学", "320412", "", "理由一", ""],
        ["CZ-MAYOR-YOUTH", 2026, "集体", "", "", "320412", "某集体", "理由二", ""],
        ["NO-SUCH", 2026, "个人", "某人", "某单位", "320412", "", "理由", ""],
        ["CZ-SCI-INDIVIDUAL", 2026, "个人", "钱二", "新北区某单位", "320411", "", "理由", ""],
        ["CZ-SCI-INDIVIDUAL", "二〇二六", "个人", "孙三", "某单位", "320412", "", "", ""],
    ])
    with pytest.raises(InputError) as e:
        excel.nominations_import(actor=users["wujin"], content=content, name="n.xlsx")
    text = "\n".join(e.value.errors)
    for row in (3, 4, 5, 6):
        assert f"第 {row} 行" in text, text
    assert "第 2 行" not in text
    assert not Nomination.objects.exists()
    ok = _xlsx([excel.HEADERS[:9],
                ["CZ-MAYOR-YOUTH", 2026, "个人", "陈一（演示）", "武进区某中学", "320412", "", "理由一", "获奖证书"]])
    made = excel.nominations_import(actor=users["wujin"], content=ok, name="n.xlsx")
    assert [n.person_name for n in made] == ["陈一（演示）"]
    ws = load_workbook(io.BytesIO(excel.nominations_export(users["wujin"]))).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[1][:4] == ("CZ-MAYOR-YOUTH", 2026, "个人", "陈一（演示）")
    assert len(list(load_workbook(io.BytesIO(excel.nominations_export(users["xinbei"]))).active.iter_rows())) == 1


def test_malformed_nomination_file(users: dict[str, Any]) -> None:
    with pytest.raises(InputError):
        excel.nominations_import(actor=users["wujin"], content=b"PK\x03\x04broken", name="n.xlsx")
    assert not Nomination.objects.exists()
