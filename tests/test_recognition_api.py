"""The recognition API: public honours roll, district scope on nominations, no self-review, award and
revoke moving SCI_HONOURS."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from kepu.core.models import OrgUnit
from kepu.plans.models import Observation
from kepu.recognition import services
from kepu.recognition.models import HonourAward

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def honours_obs(code: str) -> float | None:
    o = Observation.objects.filter(indicator__code="SCI_HONOURS", org_unit__code=code, year=2026).first()
    return o.value if o else None


def test_nomination_to_public_roll(users: dict[str, Any]) -> None:
    services.plan_honours_ensure(actor=users["office"], city=OrgUnit.objects.get(code="320400"))
    wujin, xinbei = client_for(users["wujin"]), client_for(users["xinbei"])
    body = {"honour": "CZ-MAYOR-YOUTH", "year": 2026, "kind": "individual", "org_unit": "320411",
            "person_name": "某人", "organisation": "某校", "reason": "理由"}
    assert wujin.post("/api/recognition/nominations", body, content_type="application/json").status_code == 403
    body["org_unit"] = "320412"
    r = wujin.post("/api/recognition/nominations", body, content_type="application/json")
    assert r.status_code == 201
    nid = r.json()["id"]
    assert xinbei.get("/api/recognition/nominations").json() == []
    assert xinbei.post(f"/api/recognition/nominations/{nid}/review", {"recommend": True},
                       content_type="application/json").status_code == 404
    assert wujin.post(f"/api/recognition/nominations/{nid}/review", {"recommend": True},
                      content_type="application/json").status_code == 403
    reviewer, office = client_for(users["reviewer"]), client_for(users["office"])
    assert reviewer.post(f"/api/recognition/nominations/{nid}/review", {"recommend": True, "score": 90},
                         content_type="application/json").status_code == 200
    assert reviewer.post(f"/api/recognition/nominations/{nid}/award", {},
                         content_type="application/json").status_code == 403
    r = office.post(f"/api/recognition/nominations/{nid}/award", {}, content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "awarded"
    assert honours_obs("320412") == 1.0
    public = Client().get("/api/recognition/awards?year=2026")
    assert public.status_code == 200 and [a["nominee"] for a in public.json()] == ["某人"]
    award_id = HonourAward.objects.get().pk
    r = office.post(f"/api/recognition/awards/{award_id}/revoke", {"reason": "材料不实"},
                    content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    assert honours_obs("320412") == 0.0
    assert Client().get("/api/recognition/awards?year=2026").json() == []


def test_honours_as_data_office_only(users: dict[str, Any]) -> None:
    body = {"code": "CZ-TEACHER", "name_zh": "常州市优秀科技辅导员", "level": "city", "awarded_to": "individual"}
    r = client_for(users["wujin"]).post("/api/recognition/honours", body, content_type="application/json")
    assert r.status_code == 403
    r = client_for(users["office"]).post("/api/recognition/honours", body, content_type="application/json")
    assert r.status_code == 201
    assert [h["code"] for h in Client().get("/api/recognition/honours").json()] == ["CZ-TEACHER"]
    r = client_for(users["office"]).post("/api/recognition/honours", {**body, "code": "../x"},
                                         content_type="application/json")
    assert r.status_code == 422
