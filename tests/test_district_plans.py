"""District implementation plans (辖市(区)实施方案, issue 8 point 8): a district attaches its own plan
(a plan file naming the city plan as parent), whose extra targets show on its dashboard beside the
city's cascade for it and never change the city's targets, allocations or statuses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from conftest import PASSWORD, REPO
from kepu.core.errors import InputError
from kepu.plans.models import Plan, Target, TargetAllocation, TargetStatus
from kepu.plans.plan_import import plan_import

WUJIN_PLAN = REPO / "data/plans/example-wujin-implementation.yaml"


def _city_state(plan: Plan) -> dict[str, Any]:
    return {
        "targets": sorted(Target.objects.filter(plan=plan).values_list("code", "value", "active", "cascade")),
        "allocations": sorted(
            TargetAllocation.objects.filter(target__plan=plan).values_list("target__code", "org_unit__code", "value")
        ),
        "statuses": sorted(
            TargetStatus.objects.filter(target__plan=plan).values_list("target__code", "org_unit__code", "status")
        ),
        "plan": Plan.objects.filter(pk=plan.pk).values("version", "content_hash", "region_id").get(),
    }


def _client(user: Any) -> Client:
    c = Client()
    assert c.login(username=user.username, password=PASSWORD)
    return c


def _doc(**meta: Any) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(WUJIN_PLAN.read_text(encoding="utf-8"))
    doc["plan"].update(meta)
    return doc


def _write(tmp_path: Path, doc: dict[str, Any], name: str = "district.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_importing_a_district_plan_leaves_the_city_plan_unchanged(
    plan: Plan, django_capture_on_commit_callbacks: Any
) -> None:
    # Given the city plan with its targets, allocations and statuses
    before = _city_state(plan)
    assert before["allocations"] and before["statuses"]
    # When Wujin's implementation plan is imported (status refresh included)
    with django_capture_on_commit_callbacks(execute=True):
        district, _ = plan_import(path=WUJIN_PLAN)
    # Then it is linked to the city plan, for the district, with its own target
    assert (district.parent_id, district.region.code) == (plan.pk, "320412")
    assert list(district.targets.values_list("code", "value")) == [("WJ-T1", 120.0)]
    # And every city target, allocation and status is as it was
    assert _city_state(plan) == before


def test_a_district_plan_may_not_take_the_city_plans_code(plan: Plan, tmp_path: Path) -> None:
    before = _city_state(plan)
    path = _write(tmp_path, _doc(code=plan.code))
    with pytest.raises(InputError) as exc:
        plan_import(path=path)
    assert any("plan.code" in e for e in exc.value.errors)
    assert _city_state(plan) == before


def test_a_district_plan_must_be_for_a_district_of_the_city(plan: Plan, tmp_path: Path) -> None:
    with pytest.raises(InputError) as exc:
        plan_import(path=_write(tmp_path, _doc(region="320400")))
    assert any("plan.region" in e and "320400" in e for e in exc.value.errors)
    with pytest.raises(InputError) as exc:
        plan_import(path=_write(tmp_path, _doc(parent="no-such-plan")))
    assert any("plan.parent" in e for e in exc.value.errors)
    assert not Plan.objects.filter(parent__isnull=False).exists()


def test_another_district_cannot_take_over_a_district_plan(plan: Plan, tmp_path: Path) -> None:
    plan_import(path=WUJIN_PLAN)
    with pytest.raises(InputError) as exc:
        plan_import(path=_write(tmp_path, _doc(region="320411")))  # 新北区 with Wujin's plan code
    assert any("plan.code" in e for e in exc.value.errors)
    assert Plan.objects.get(code="wujin-implementation-example").region.code == "320412"


def test_district_page_shows_own_targets_beside_the_city_cascade(plan: Plan, users: dict[str, Any]) -> None:
    plan_import(path=WUJIN_PLAN)
    html = _client(users["wujin"]).get("/districts/320412/plan/").content.decode()
    assert "WJ-T1" in html and "每年举办社区科普讲座" in html
    # the city's targets allocated to Wujin are listed too (T03 is split among the districts)
    assert 'data-testid="city-cascade"' in html and "T03" in html


def test_district_dashboard_shows_its_extra_targets(plan: Plan, users: dict[str, Any]) -> None:
    plan_import(path=WUJIN_PLAN)
    wujin = _client(users["wujin"]).get("/").content.decode()
    assert 'data-testid="district-extra"' in wujin and "WJ-T1" in wujin
    assert 'data-testid="status-grid"' in wujin  # the city's cascade for Wujin, beside it
    # Another district's dashboard does not show Wujin's targets
    xinbei = _client(users["xinbei"]).get("/").content.decode()
    assert "WJ-T1" not in xinbei


def test_another_district_cannot_see_or_change_it(plan: Plan, users: dict[str, Any]) -> None:
    plan_import(path=WUJIN_PLAN)
    xinbei = _client(users["xinbei"])
    assert xinbei.get("/districts/320412/plan/").status_code == 403
    upload = SimpleUploadedFile("wujin.yaml", WUJIN_PLAN.read_bytes().replace(b"120", b"999"))
    assert xinbei.post("/districts/320412/plan/", {"file": upload}).status_code == 403
    assert Target.objects.get(plan__code="wujin-implementation-example", code="WJ-T1").value == 120
    # nor its versions (the plan is not even found for a user outside Wujin)
    assert xinbei.get("/plan/versions/?plan=wujin-implementation-example").status_code in (403, 404)
    # a viewer of Wujin may read the page but not upload
    viewer = _client(users["viewer_wujin"])
    page = viewer.get("/districts/320412/plan/")
    assert page.status_code == 200 and 'data-testid="district-plan-upload"' not in page.content.decode()
    upload = SimpleUploadedFile("wujin.yaml", WUJIN_PLAN.read_bytes())
    assert viewer.post("/districts/320412/plan/", {"file": upload}).status_code == 403


def test_district_reporter_uploads_the_plan_and_a_new_version(plan: Plan, users: dict[str, Any]) -> None:
    before = _city_state(plan)
    wujin = _client(users["wujin"])
    upload = SimpleUploadedFile("wujin.yaml", WUJIN_PLAN.read_bytes())
    assert wujin.post("/districts/320412/plan/", {"file": upload}).status_code == 302
    district = Plan.objects.get(code="wujin-implementation-example")
    assert district.parent_id == plan.pk and district.targets.get(code="WJ-T1").value == 120
    upload = SimpleUploadedFile("wujin.yaml", WUJIN_PLAN.read_bytes().replace(b"value: 120", b"value: 150"))
    assert wujin.post("/districts/320412/plan/", {"file": upload}).status_code == 302
    assert district.targets.get(code="WJ-T1").value == 150
    # The district's reporters see its versions and what changed; the city plan is untouched
    diff = wujin.get("/plan/versions/diff/?a=1&b=2&plan=wujin-implementation-example").content.decode()
    assert "WJ-T1" in diff and "150" in diff
    # the city plan's versions are the office's
    assert wujin.get(f"/plan/versions/?plan={plan.code}").status_code == 403
    assert _city_state(plan) == before


def test_a_file_for_another_district_is_refused_on_the_page(plan: Plan, users: dict[str, Any]) -> None:
    # Wujin's reporter uploading a file that says it is 新北区's plan: refused, nothing written
    doc = _doc(region="320411", code="xinbei-plan")
    upload = SimpleUploadedFile("x.yaml", yaml.safe_dump(doc, allow_unicode=True).encode("utf-8"))
    page = _client(users["wujin"]).post("/districts/320412/plan/", {"file": upload})
    assert page.status_code == 422
    assert "plan.region 应为 320412" in page.content.decode()
    assert not Plan.objects.filter(parent__isnull=False).exists()
