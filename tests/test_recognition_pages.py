"""Recognition pages: public honours roll and unit/person pages; nominations console scoped by district."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from kepu.core.models import OrgUnit
from kepu.recognition import services
from kepu.recognition.models import Nomination

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def unit(code: str) -> OrgUnit:
    return OrgUnit.objects.get(code=code)


@pytest.fixture
def awarded(users: dict[str, Any], make_user: Any) -> Nomination:
    h = {x.code: x for x in services.plan_honours_ensure(actor=users["office"], city=unit("320400"))}
    student = make_user("student")
    n = services.nomination_create(actor=users["wujin"], honour=h["CZ-MAYOR-YOUTH"], year=2026, kind="individual",
                                   org_unit=unit("320412"), person_name="李明（演示）", organisation="湖塘实验中学",
                                   nominee_user=student, reason="发明")
    services.nomination_review(actor=users["reviewer"], nomination=n, recommend=True)
    services.award_decide(actor=users["office"], nomination=n)
    return n


def test_public_pages_show_the_award(awarded: Nomination) -> None:
    anon = Client()
    page = anon.get("/recognition/honours/").content.decode()
    assert "李明（演示）" in page and "常州市青少年科技创新市长奖" in page
    assert "李明（演示）" in anon.get("/recognition/units/320412/").content.decode()
    assert "李明（演示）" not in anon.get("/recognition/units/320411/").content.decode()
    assert "李明（演示）" in anon.get(f"/recognition/people/{awarded.nominee_user_id}/").content.decode()


def test_revoked_award_leaves_the_public_page(users: dict[str, Any], awarded: Nomination) -> None:
    c = client_for(users["office"])
    c.post(f"/recognition/nominations/{awarded.pk}/", {"action": "revoke", "reason": "材料不实"})
    awarded.refresh_from_db()
    assert awarded.status == Nomination.Status.REVOKED
    assert "李明（演示）" not in Client().get("/recognition/honours/").content.decode()


def test_nominations_console_scope(users: dict[str, Any], awarded: Nomination) -> None:
    assert "李明（演示）" in client_for(users["wujin"]).get("/recognition/nominations/").content.decode()
    assert "李明（演示）" not in client_for(users["xinbei"]).get("/recognition/nominations/").content.decode()
    assert client_for(users["xinbei"]).get(f"/recognition/nominations/{awarded.pk}/").status_code == 404
    r = client_for(users["xinbei"]).post(f"/recognition/nominations/{awarded.pk}/",
                                         {"action": "revoke", "reason": "x"})
    assert r.status_code == 404
    awarded.refresh_from_db()
    assert awarded.status == Nomination.Status.AWARDED


def test_nominating_from_the_page(users: dict[str, Any], awarded: Nomination) -> None:
    h = awarded.honour
    c = client_for(users["xinbei"])
    r = c.post("/recognition/nominations/", {"honour": h.pk, "year": 2026, "kind": "individual",
                                             "org_unit": unit("320412").pk, "person_name": "某", "organisation": "某",
                                             "reason": "理由"}, follow=True)
    assert "您只能推荐本辖区" in r.content.decode()
    c.post("/recognition/nominations/", {"honour": h.pk, "year": 2026, "kind": "individual",
                                         "org_unit": unit("320411").pk, "person_name": "王五（演示）",
                                         "organisation": "新北区某校", "reason": "理由"})
    assert Nomination.objects.filter(person_name="王五（演示）", org_unit__code="320411").exists()


def test_pages_in_english(users: dict[str, Any], awarded: Nomination) -> None:
    page = Client(HTTP_ACCEPT_LANGUAGE="en").get("/recognition/honours/").content.decode()
    assert "Science honours" in page and "科普表彰</h1>" not in page
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(users["wujin"])
    page = c.get("/funding/?year=2026").content.decode()
    assert "Science funding per resident, 2026" in page and "Enter a budget" in page
