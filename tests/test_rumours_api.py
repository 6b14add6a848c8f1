# ruff: noqa: F811  (pytest fixtures are imported from tests/test_rumours_fixtures.py and named as arguments)
"""The rumours API (/api/rumours/...): partner intake with a bearer token (bounded body, region check,
audited refusal), staff claims scoped to their units, the debunk workflow with the same refusals as the
pages, and the public list of published debunks."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from tests.test_rumours_fixtures import (  # noqa: F401
    PASSWORD,
    citizen_of,
    fresh_rate_limits,
    full_debunk,
    rumour_people,
    unit,
)

pytestmark = pytest.mark.django_db

URL = "/api/rumours/partner/claims"


@pytest.fixture
def partner(rumour_people: dict[str, Any]) -> tuple[Any, str]:
    from kepu.rumours import services

    return services.partner_create(actor=rumour_people["office"], name="武进融媒（演示）", org_unit=unit("320412"))


def _post(token: str, body: Any, **extra: Any) -> Any:
    data = body if isinstance(body, (bytes, str)) else json.dumps(body, ensure_ascii=False)
    return Client().post(URL, data=data, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}",
                         **extra)


def test_a_partner_posts_claims_and_duplicates_are_counted(partner: tuple[Any, str],
                                                           django_capture_on_commit_callbacks: Any) -> None:
    from kepu.core.models import OrgUnit
    from kepu.rumours.models import Claim, Partner

    p, token = partner
    town = OrgUnit.objects.filter(parent=unit("320412")).order_by("code").first()
    assert town is not None
    # The token is stored only as a keyed hash
    assert token not in Partner.objects.filter(pk=p.pk).values_list("token_key", flat=True)[0]
    with django_capture_on_commit_callbacks(execute=True):
        r = _post(token, {"text": "<b>喝隔夜水</b>会致癌", "region": town.code, "media": "抖音视频文案",
                          "topic": "health"})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["created"] is True and body["count"] == 1
    claim = Claim.objects.get(pk=body["id"])
    assert claim.text == "喝隔夜水会致癌" and claim.partner == p and claim.source == "partner"
    assert claim.media == "抖音视频文案" and claim.district.code == "320412" and claim.org_unit == town
    # The same text again in the same district is counted on the same claim
    r2 = _post(token, {"text": "喝隔夜水会致癌！", "region": "320412"})
    assert r2.status_code == 201 and r2.json()["id"] == body["id"] and r2.json()["count"] == 2
    assert r2.json()["created"] is False


def test_a_partner_token_for_another_region_is_refused_and_audited(partner: tuple[Any, str]) -> None:
    from kepu.core.models import AuditEntry
    from kepu.rumours.models import Claim

    p, token = partner
    r = _post(token, {"text": "喝隔夜水会致癌", "region": "320411"})
    assert r.status_code == 403
    assert r["Content-Type"] == "application/problem+json" and "新北区" in r.json()["detail"]
    assert Claim.objects.count() == 0
    entry = AuditEntry.objects.get(action="rumours.partner_region_refused")
    assert entry.object_id == str(p.pk) and "320411" in entry.comment


def test_a_wrong_or_deactivated_token_is_unauthorised(rumour_people: dict[str, Any], partner: tuple[Any, str]) -> None:
    from kepu.rumours import services
    from kepu.rumours.models import Claim

    p, token = partner
    assert _post("rp_not-a-token", {"text": "x", "region": "320412"}).status_code == 401
    assert Client().post(URL, data="{}", content_type="application/json").status_code == 401
    services.partner_deactivate(actor=rumour_people["office"], partner=p)
    assert _post(token, {"text": "喝隔夜水会致癌", "region": "320412"}).status_code == 401
    assert Claim.objects.count() == 0


def test_a_ten_megabyte_body_is_refused_before_parsing(partner: tuple[Any, str]) -> None:
    from kepu.rumours.models import Claim

    _, token = partner
    huge = json.dumps({"text": "谣" * (10 * 1024 * 1024 // 3), "region": "320412"}, ensure_ascii=False).encode()
    assert len(huge) >= 10 * 1024 * 1024
    r = _post(token, huge)
    assert r.status_code == 413
    assert r["Content-Type"] == "application/problem+json" and "64 KB" in r.json()["detail"]
    # just over the bound, too
    assert _post(token, b"{" + b" " * (64 * 1024) + b"}").status_code == 413
    assert Claim.objects.count() == 0


def test_bad_partner_bodies_get_clear_errors(partner: tuple[Any, str]) -> None:
    _, token = partner
    assert _post(token, b"not json").status_code == 400
    assert _post(token, b"[1, 2]").status_code == 400
    r = _post(token, {"text": "谣" * 2001, "region": "320412"})
    assert r.status_code == 422 and "2000" in r.json()["detail"]
    r = _post(token, {"text": "x", "region": "999999"})
    assert r.status_code == 422 and "999999" in r.json()["detail"]
    r = _post(token, {"region": "320412"})
    assert r.status_code == 422 and "text" in r.json()["detail"]


def test_staff_see_and_enter_claims_only_in_scope(rumour_people: dict[str, Any]) -> None:
    from kepu.rumours import services

    services.claim_enter(actor=rumour_people["office"], text="喝隔夜水会致癌", org_unit=unit("320412"))
    services.claim_enter(actor=rumour_people["office"], text="吃碘盐防辐射", org_unit=unit("320411"))
    c = Client()
    c.login(username="wujin", password=PASSWORD)
    data = c.get("/api/rumours/claims").json()
    assert data["count"] == 1 and data["items"][0]["text"] == "喝隔夜水会致癌"
    r = c.post("/api/rumours/claims", data={"text": "新说法", "region": "320411"}, content_type="application/json")
    assert r.status_code == 403
    r = c.post("/api/rumours/claims", data={"text": "新说法<script>x</script>", "region": "320412"},
               content_type="application/json")
    assert r.status_code == 201 and r.json()["created"] is True
    assert c.get("/api/rumours/claims").json()["count"] == 2


def test_the_workflow_through_the_api_refuses_publishing_without_review(
        rumour_people: dict[str, Any], django_capture_on_commit_callbacks: Any) -> None:
    from kepu.core.models import AuditEntry
    from kepu.rumours import services

    claim = services.claim_enter(actor=rumour_people["editor"], text="喝隔夜水会致癌", org_unit=unit("320412")).claim
    editor, expert, reviewer = Client(), Client(), Client()
    editor.login(username="editor", password=PASSWORD)
    expert.login(username="expert", password=PASSWORD)
    reviewer.login(username="reviewer", password=PASSWORD)
    d = editor.post("/api/rumours/debunks", data={"claim_ids": [claim.pk]}, content_type="application/json").json()
    r = editor.post(f"/api/rumours/debunks/{d['id']}/assign", data={"expert_user_id": rumour_people["expert"].pk},
                    content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "assigned"
    draft = {"title": "隔夜水不致癌", "claim_text": "喝隔夜水会致癌", "verdict": "false", "explanation": "含量极低。",
             "sources": [{"url": "https://example.org/x", "title": "来源"}]}
    assert expert.put(f"/api/rumours/debunks/{d['id']}/draft", data=draft,
                      content_type="application/json").status_code == 200
    # Publishing the draft (not sent for review) is refused and audited
    r = reviewer.post(f"/api/rumours/debunks/{d['id']}/publish")
    assert r.status_code == 403 and AuditEntry.objects.filter(action="rumours.publish_refused").count() == 1
    assert expert.post(f"/api/rumours/debunks/{d['id']}/submit").json()["status"] == "in_review"
    assert expert.post(f"/api/rumours/debunks/{d['id']}/publish").status_code == 403  # the author
    with django_capture_on_commit_callbacks(execute=True):
        r = reviewer.post(f"/api/rumours/debunks/{d['id']}/publish")
    assert r.status_code == 200 and r.json()["status"] == "published"
    # A silent edit of the published verdict is refused (draft endpoint, and correct without a note)
    assert expert.put(f"/api/rumours/debunks/{d['id']}/draft", data={**draft, "verdict": "true"},
                      content_type="application/json").status_code == 403
    assert reviewer.post(f"/api/rumours/debunks/{d['id']}/correct", data={"verdict": "true"},
                         content_type="application/json").status_code == 403
    assert AuditEntry.objects.filter(action="rumours.silent_edit_refused").count() == 2
    # The public list shows it, to anyone
    public = Client().get("/api/rumours/public/debunks").json()
    assert public["count"] == 1 and public["items"][0]["verdict"] == "false"
    assert public["items"][0]["url"] == f"/me/rumours/{d['id']}/"
    assert Client().get(f"/api/rumours/public/debunks/{d['id']}").json()["verdict_label"] == "谣言"


def test_the_public_api_lists_only_published_debunks(rumour_people: dict[str, Any]) -> None:
    from kepu.rumours import services

    claim = services.claim_enter(actor=rumour_people["editor"], text="喝隔夜水会致癌", org_unit=unit("320412")).claim
    d = services.debunk_open(actor=rumour_people["editor"], claims=[claim])
    assert Client().get("/api/rumours/public/debunks").json()["count"] == 0
    assert Client().get(f"/api/rumours/public/debunks/{d.pk}").status_code == 404
    # and the staff list needs a login
    assert Client().get("/api/rumours/debunks").status_code == 401
