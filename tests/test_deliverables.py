"""Deliverables (issue 8 point 3): the plan's one-off commitments are in the plan file with the seed's words,
imported with an owner, a due date (or the plan period), milestones and a status (late computed); the owner
unit's reporter updates them and attaches evidence; a reviewer other than the submitter signs them off; the
dashboard and the annual assessment count them; pages and API are scope-checked."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from conftest import PASSWORD, PLAN_FILE
from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import AuditEntry, EvidenceFile
from kepu.plans import deliverables as svc
from kepu.plans.models import Deliverable, Plan
from kepu.plans.plan_import import plan_import

pytestmark = pytest.mark.usefixtures("english")

SEED = Path("/work/shared/seeds/000_80f8d54d15aef5bc.txt")
# Every one-off commitment of the seed, by the words that name it (written from the seed, not the file).
SEED_COMMITMENTS = [
    "科普基础设施建设规划",
    "常州科技馆建设",
    "科普教育基地认定管理办法",
    "成立常州市科普场馆协会",
    "建立科普人才库",
    "设立科普专家指导委员会",
    "组建专家委员会",
    "应急科普宣教资源数据库",
    "开齐通用技术课",
    "将科普经费列入同级财政预算",
    "应急科普协同机制",
    "行动规划实施方案",
]
PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def people(users: dict[str, Any], make_user: Any) -> dict[str, Any]:
    return {
        **users,
        "cast": make_user("cast", ("department_reporter", "320400", "cz-cast")),
        "reviewer2": make_user("reviewer2", ("reviewer", "320400", None)),
    }


def _item(plan: Plan, code: str) -> Deliverable:
    return Deliverable.objects.get(plan=plan, code=code)


def _login(username: str) -> Client:
    c = Client()
    assert c.login(username=username, password=PASSWORD)
    return c


# --- the plan file ---------------------------------------------------------------------------------


def test_every_one_off_commitment_of_the_seed_is_in_the_plan_file_with_its_words() -> None:
    doc = yaml.safe_load(PLAN_FILE.read_text(encoding="utf-8"))
    seed = SEED.read_text(encoding="utf-8") if SEED.exists() else None
    quotes = [d["quote"] for d in doc["deliverables"]]
    for words in SEED_COMMITMENTS:
        assert any(words in q for q in quotes), words
    if seed is not None:
        assert all(q in seed for q in quotes)


def test_import_creates_deliverables_with_owner_and_plan_period_due(plan: Plan) -> None:
    items = {d.code: d for d in Deliverable.objects.filter(plan=plan)}
    assert len(items) == 12
    assert items["D02"].owner.name_zh == "市科协"
    assert items["D02"].section is not None and items["D02"].section.code == "P3.2"
    assert {d.name_zh for d in items["D02"].supporting.all()} == {"市发改委", "市财政局"}
    assert items["D10"].owner.name_zh == "市教育局"
    assert items["D02"].due_date is None and items["D02"].due == dt.date(2035, 12, 31)


def test_reimport_keeps_status_and_evidence(plan: Plan, people: dict[str, Any], media: Path, edited_plan: Any) -> None:
    item = _item(plan, "D04")
    svc.deliverable_progress(user=people["cast"], item=item, status="in_progress", note="筹备中")
    svc.deliverable_evidence_add(user=people["cast"], item=item, upload=SimpleUploadedFile("a.pdf", PDF))

    def mutate(doc: dict[str, Any]) -> None:
        d = next(x for x in doc["deliverables"] if x["code"] == "D04")
        d["due"] = "2025-12-31"
        d["milestones"] = [{"name_zh": "发起筹备", "name_en": "Preparation", "due": "2024-06-30"}]

    plan_import(path=edited_plan(mutate))
    item.refresh_from_db()
    assert (item.status, item.due_date, item.evidence.count()) == ("in_progress", dt.date(2025, 12, 31), 1)
    assert [m.name_zh for m in item.milestones.all()] == ["发起筹备"]


def test_unknown_owner_is_a_clear_error_and_nothing_written(plan: Plan, edited_plan: Any) -> None:
    def mutate(doc: dict[str, Any]) -> None:
        doc["deliverables"][1]["owner"] = "市不存在局"
        doc["deliverables"][1]["name_zh"] = "改过的名字"

    with pytest.raises(InputError) as err:
        plan_import(path=edited_plan(mutate))
    assert any("deliverables[1].owner" in e and "市不存在局" in e for e in err.value.errors)
    assert _item(plan, "D02").name_zh == "推进常州科技馆建设"


def test_due_outside_the_plan_years_is_refused(plan: Plan, edited_plan: Any) -> None:
    def mutate(doc: dict[str, Any]) -> None:
        doc["deliverables"][0]["due"] = "2040-01-01"

    with pytest.raises(InputError) as err:
        plan_import(path=edited_plan(mutate))
    assert any("deliverables[0].due" in e for e in err.value.errors)


# --- status ------------------------------------------------------------------------------------------


def test_late_is_computed_from_the_due_date(plan: Plan) -> None:
    item = _item(plan, "D01")
    item.due_date = dt.date(2025, 12, 31)
    assert item.display_status(dt.date(2025, 12, 31)) == "not_started"
    assert item.display_status(dt.date(2026, 1, 1)) == "late"
    item.status = Deliverable.Status.SUBMITTED
    assert item.display_status(dt.date(2025, 6, 1)) == "in_progress"
    item.status = Deliverable.Status.DONE
    assert item.display_status(dt.date(2030, 1, 1)) == "done"
    counts = svc.deliverable_counts([item, _item(plan, "D02")], dt.date(2026, 1, 1))
    assert counts == {"not_started": 1, "in_progress": 0, "done": 1, "late": 0}


# --- who may do what ---------------------------------------------------------------------------------


def test_only_the_owner_units_reporter_or_office_updates(plan: Plan, people: dict[str, Any]) -> None:
    item = _item(plan, "D02")  # owner 市科协
    with pytest.raises(PermissionDenied):
        svc.deliverable_progress(user=people["edu"], item=item, status="in_progress", note="x")
    item.refresh_from_db()
    assert item.status == "not_started"
    svc.deliverable_progress(user=people["cast"], item=item, status="in_progress", note="选址完成")
    svc.deliverable_progress(user=people["office"], item=item, status="in_progress", note="选址完成。")
    item.refresh_from_db()
    assert (item.status, item.progress_note) == ("in_progress", "选址完成。")


def test_submit_needs_evidence_then_sign_off_by_another_reviewer(
    plan: Plan, people: dict[str, Any], media: Path
) -> None:
    item = _item(plan, "D04")
    with pytest.raises(InputError):
        svc.deliverable_submit(user=people["cast"], item=item)
    svc.deliverable_evidence_add(user=people["cast"], item=item, upload=SimpleUploadedFile("章程.pdf", PDF))
    svc.deliverable_submit(user=people["cast"], item=item, note="协会已登记")
    assert item.status == "submitted"

    svc.deliverable_sign_off(user=people["reviewer"], item=item, comment="材料齐全")
    item.refresh_from_db()
    assert (item.status, item.signed_off_by, item.submitted_by) == ("done", people["reviewer"], people["cast"])
    assert AuditEntry.objects.filter(action="deliverable.sign_off", object_id=str(item.pk)).count() == 1


def test_sign_off_by_the_submitter_is_refused(plan: Plan, people: dict[str, Any], media: Path) -> None:
    item = _item(plan, "D01")
    svc.deliverable_evidence_add(user=people["office"], item=item, upload=SimpleUploadedFile("plan.pdf", PDF))
    svc.deliverable_submit(user=people["office"], item=item)

    with pytest.raises(PermissionDenied):
        svc.deliverable_sign_off(user=people["office"], item=item)
    item.refresh_from_db()
    assert (item.status, item.signed_off_by) == ("submitted", None)
    assert not svc.can_sign_off(people["office"], item)
    assert svc.can_sign_off(people["reviewer"], item)


def test_return_needs_a_comment_and_reopens(plan: Plan, people: dict[str, Any], media: Path) -> None:
    item = _item(plan, "D03")
    svc.deliverable_evidence_add(user=people["cast"], item=item, upload=SimpleUploadedFile("办法.pdf", PDF))
    svc.deliverable_submit(user=people["cast"], item=item)
    with pytest.raises(InputError):
        svc.deliverable_return(user=people["reviewer"], item=item, comment=" ")
    svc.deliverable_return(user=people["reviewer"], item=item, comment="缺印发文件")
    item.refresh_from_db()
    assert (item.status, item.review_comment) == ("in_progress", "缺印发文件")


def test_bad_evidence_is_refused_and_nothing_attached(plan: Plan, people: dict[str, Any], media: Path) -> None:
    item = _item(plan, "D02")
    with pytest.raises(InputError) as err:
        svc.deliverable_evidence_add(user=people["cast"], item=item, upload=SimpleUploadedFile("x.pdf", b"MZ\x90\x00"))
    assert "x.pdf" in str(err.value)
    assert (item.evidence.count(), EvidenceFile.objects.count()) == (0, 0)


def test_district_user_of_another_region_sees_nothing_but_district_of_this_city_sees(
    plan: Plan, people: dict[str, Any]
) -> None:
    assert svc.deliverables_for(plan, people["wujin"]).count() == 12
    assert svc.deliverables_for(plan, people["wujin"]).filter(code="D02").exists()
    assert not svc.can_update(people["wujin"], _item(plan, "D02"))
    assert not svc.can_review(people["wujin"], _item(plan, "D02"))


def test_milestones_added_and_done_by_the_owner(plan: Plan, people: dict[str, Any]) -> None:
    item = _item(plan, "D02")
    m = svc.milestone_add(user=people["cast"], item=item, name_zh="完成选址", due_date=dt.date(2026, 6, 30))
    svc.milestone_done(user=people["cast"], milestone=m, done_on=dt.date(2026, 1, 5))
    m.refresh_from_db()
    assert (m.name_zh, m.done_on) == ("完成选址", dt.date(2026, 1, 5))
    with pytest.raises(PermissionDenied):
        svc.milestone_add(user=people["edu"], item=item, name_zh="x", due_date=None)
    with pytest.raises(InputError):
        svc.milestone_add(user=people["cast"], item=item, name_zh="太晚", due_date=dt.date(2040, 1, 1))


# --- pages ---------------------------------------------------------------------------------------------


def test_list_page_and_dashboard_show_counts_by_status(plan: Plan, people: dict[str, Any]) -> None:
    c = _login("office")
    page = c.get("/deliverables/").content.decode()
    assert "推进常州科技馆建设" in page and "开齐通用技术课" in page
    assert 'data-testid="dcount-not_started"><div class="n">12<' in page
    dash = c.get("/").content.decode()
    assert 'data-testid="deliverable-summary"' in dash
    assert 'data-testid="dash-dcount-not_started"><div class="n">12<' in dash


def test_detail_page_offers_forms_to_the_owner_only(plan: Plan, people: dict[str, Any], media: Path) -> None:
    item = _item(plan, "D02")
    owner_page = _login("cast").get(f"/deliverables/{item.pk}/").content.decode()
    assert 'data-testid="evidence-form"' in owner_page and 'data-testid="progress-form"' in owner_page
    edu = _login("edu")
    assert 'data-testid="evidence-form"' not in edu.get(f"/deliverables/{item.pk}/").content.decode()
    r = edu.post(f"/deliverables/{item.pk}/action/", {"action": "progress", "status": "in_progress", "note": "x"})
    assert r.status_code == 403
    item.refresh_from_db()
    assert item.status == "not_started"


def test_page_upload_refuses_a_renamed_executable_with_a_message(
    plan: Plan, people: dict[str, Any], media: Path
) -> None:
    item = _item(plan, "D02")
    c = _login("cast")
    r = c.post(
        f"/deliverables/{item.pk}/action/",
        {"action": "evidence", "file": SimpleUploadedFile("setup.pdf", b"MZ\x90\x00" + b"\x00" * 64)},
        follow=True,
    )
    assert "setup.pdf" in r.content.decode()
    assert EvidenceFile.objects.count() == 0


def test_evidence_download_follows_scope(plan: Plan, people: dict[str, Any], make_user: Any, media: Path) -> None:
    item = _item(plan, "D02")
    ev = svc.deliverable_evidence_add(user=people["cast"], item=item, upload=SimpleUploadedFile("方案.pdf", PDF))
    url = f"/deliverables/{item.pk}/evidence/{ev.pk}/"
    r = _login("viewer_wujin").get(url)
    assert r.status_code == 200 and b"".join(r.streaming_content) == PDF  # type: ignore[attr-defined]
    assert r["Content-Type"] == "application/pdf"
    make_user("nobody")
    assert _login("nobody").get(url).status_code == 404
    other = _item(plan, "D03")
    assert _login("office").get(f"/deliverables/{other.pk}/evidence/{ev.pk}/").status_code == 404


def test_page_sign_off_by_the_submitter_is_refused(plan: Plan, people: dict[str, Any], media: Path) -> None:
    item = _item(plan, "D01")
    svc.deliverable_evidence_add(user=people["office"], item=item, upload=SimpleUploadedFile("p.pdf", PDF))
    svc.deliverable_submit(user=people["office"], item=item)
    c = _login("office")
    assert 'data-testid="own"' in c.get(f"/deliverables/{item.pk}/").content.decode()
    assert c.post(f"/deliverables/{item.pk}/action/", {"action": "sign_off"}).status_code == 403
    item.refresh_from_db()
    assert item.status == "submitted"
    r = _login("reviewer").post(f"/deliverables/{item.pk}/action/", {"action": "sign_off", "comment": "好"})
    assert r.status_code == 302
    item.refresh_from_db()
    assert (item.status, item.signed_off_by) == ("done", people["reviewer"])


# --- the annual assessment ------------------------------------------------------------------------------


def test_annual_assessment_counts_deliverables_as_of_the_year_end(
    plan: Plan, people: dict[str, Any], media: Path
) -> None:
    from kepu.plans.assessment import assessment_compute

    item = _item(plan, "D04")
    svc.deliverable_evidence_add(user=people["cast"], item=item, upload=SimpleUploadedFile("a.pdf", PDF))
    svc.deliverable_submit(user=people["cast"], item=item)
    svc.deliverable_sign_off(user=people["reviewer"], item=item)
    late = _item(plan, "D01")
    late.due_date = dt.date(2024, 6, 30)
    late.save()
    year = item.signed_off_at.year  # type: ignore[union-attr]

    a = assessment_compute(plan, year)
    assert a.deliverables == {"not_started": 10, "in_progress": 0, "done": 1, "late": 1}
    assert "已完成 1 项" in a.method_zh[-1] and "已逾期 1 项" in a.method_zh[-1]
    assert "1 done" in a.method_en[-1]
    # The year before it was signed off, it was not yet done.
    assert assessment_compute(plan, year - 1).deliverables["done"] == 0


# --- API -----------------------------------------------------------------------------------------------


def test_api_lists_deliverables_with_counts_in_scope(
    plan: Plan, people: dict[str, Any], make_user: Any, api_client: Any
) -> None:
    r = api_client(people["edu"]).get(f"/api/plans/{plan.code}/deliverables")
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 12 and body["counts"]["not_started"] == 12
    d02 = next(i for i in body["items"] if i["code"] == "D02")
    assert (d02["owner"], d02["due"], d02["due_in_plan"]) == ("cz-cast", "2035-12-31", False)
    assert d02["status"] == "not_started"
    one = api_client(people["edu"]).get(f"/api/deliverables/{d02['id']}")
    assert one.status_code == 200 and one.json()["quote"] == "推进常州科技馆建设"

    # A user whose only role is in a unit outside the plan's region sees neither.
    from kepu.core.models import OrgUnit

    elsewhere = OrgUnit.objects.create(code="999999", name_zh="外市", name_en="Other", level="city", path="/999999/")
    outsider = make_user("outsider", ("viewer", elsewhere.code, None))
    assert api_client(outsider).get(f"/api/plans/{plan.code}/deliverables").status_code == 404
    assert api_client(outsider).get(f"/api/deliverables/{d02['id']}").status_code == 404
