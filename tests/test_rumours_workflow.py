# ruff: noqa: F811  (pytest fixtures are imported from tests/test_rumours_fixtures.py and named as arguments)
"""The debunk workflow (issue 11 point 5): triage → assign a talent-pool expert → draft → review by
another user → publish; publishing without review and silent edits of a published verdict are refused
and audited; corrections leave a public 更正; citizens who reported a matching claim are answered in
their inbox exactly once; the monthly list; schema.org ClaimReview JSON-LD."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from kepu.core.errors import InputError, PermissionDenied
from tests.test_rumours_fixtures import PASSWORD, citizen_of, full_debunk, rumour_people, unit  # noqa: F401

pytestmark = pytest.mark.django_db


def _draft(people: dict[str, Any], claim_text: str = "喝隔夜水会致癌") -> Any:
    from kepu.rumours import services

    claim = services.claim_enter(actor=people["editor"], text=claim_text, org_unit=unit("320412")).claim
    d = services.debunk_open(actor=people["editor"], claims=[claim])
    services.debunk_assign(actor=people["editor"], debunk=d, expert=people["expert"])
    services.debunk_draft_save(actor=people["expert"], debunk=d, title="隔夜水不致癌", claim_text=claim_text,
                               verdict="false", explanation="亚硝酸盐含量极低。",
                               sources=[{"url": "https://example.org/a", "title": "来源（演示）"}])
    d.refresh_from_db()
    return d


def test_the_full_workflow_publishes_and_answers_every_reporting_citizen_once(
        rumour_people: dict[str, Any], citizen_of: Any, django_capture_on_commit_callbacks: Any) -> None:
    from kepu.outreach.campaign_models import InboxMessage
    from kepu.rumours import services
    from kepu.rumours.models import Claim

    a, b = citizen_of("citizen_a"), citizen_of("citizen_b")
    # Given two citizens reported the rumour (one of them twice, in two districts' wordings)
    with django_capture_on_commit_callbacks(execute=True):
        c1 = services.claim_submit(text="喝隔夜水会致癌", source="citizen", org_unit=unit("320412"), citizen=a,
                                   client="ka").claim
        services.claim_submit(text="喝隔夜水会致癌", source="citizen", org_unit=unit("320412"), citizen=b, client="kb")
        c2 = services.claim_submit(text="喝隔夜水会致癌", source="citizen", org_unit=unit("320411"), citizen=a,
                                   client="ka2").claim
    # When the editor triages, assigns an expert, the expert drafts and submits, a reviewer publishes
    d = services.debunk_open(actor=rumour_people["editor"], claims=[c1])
    assert d.status == "triage" and Claim.objects.get(pk=c1.pk).status == "triaged"
    with pytest.raises(InputError, match="不是专家库"):
        services.debunk_assign(actor=rumour_people["editor"], debunk=d, expert=rumour_people["wujin"])
    services.debunk_assign(actor=rumour_people["editor"], debunk=d, expert=rumour_people["expert"])
    assert d.status == "assigned"
    with pytest.raises(PermissionDenied):  # another expert may not write someone else's draft
        services.debunk_draft_save(actor=rumour_people["expert2"], debunk=d, title="x", claim_text="x",
                                   verdict="false", explanation="x")
    services.debunk_draft_save(actor=rumour_people["expert"], debunk=d, title="喝隔夜水会致癌？不会",
                               claim_text="喝隔夜水会致癌", verdict="false", explanation="<b>亚硝酸盐</b>含量极低。",
                               evidence="检测数据", sources=[{"url": "https://example.org/a", "title": "来源"}],
                               topic="health")
    d.refresh_from_db()
    assert d.status == "draft" and d.explanation == "亚硝酸盐含量极低。"
    services.debunk_submit(actor=rumour_people["expert"], debunk=d)
    with django_capture_on_commit_callbacks(execute=True):
        services.debunk_publish(actor=rumour_people["expert2"], debunk=d)  # another expert reviews
    d.refresh_from_db()
    assert d.status == "published" and d.author == rumour_people["expert"] and d.reviewer == rumour_people["expert2"]
    assert d.published_at is not None
    # Then the claim it was opened for is answered, and the other district's same wording is matched by the task
    assert Claim.objects.get(pk=c1.pk).status == "answered"
    c2.refresh_from_db()
    assert c2.debunk_id == d.pk and c2.status == "answered"
    # And each citizen has exactly one message for this debunk, however many times they reported it
    for citizen in (a, b):
        msgs = list(InboxMessage.objects.filter(citizen=citizen))
        assert len(msgs) == 1 and msgs[0].link == f"/me/rumours/{d.pk}/" and "谣言" in msgs[0].body
    # And re-running the matching task sends nothing more
    services.debunk_match_open(debunk_id=d.pk)
    assert InboxMessage.objects.count() == 2


def test_publishing_without_review_is_refused_and_audited(rumour_people: dict[str, Any]) -> None:
    from kepu.core.models import AuditEntry
    from kepu.rumours import services

    d = _draft(rumour_people)
    # A draft that was never sent for review cannot be published, by anybody
    with pytest.raises(PermissionDenied, match="尚未送审"):
        services.debunk_publish(actor=rumour_people["reviewer"], debunk=d)
    d.refresh_from_db()
    assert d.status == "draft" and d.published_at is None
    services.debunk_submit(actor=rumour_people["expert"], debunk=d)
    # Its author cannot publish it either
    with pytest.raises(PermissionDenied, match="自己"):
        services.debunk_publish(actor=rumour_people["expert"], debunk=d)
    # Nor can a district officer without a review role
    with pytest.raises(PermissionDenied, match="无权审核"):
        services.debunk_publish(actor=rumour_people["wujin"], debunk=d)
    d.refresh_from_db()
    assert d.status == "in_review" and d.published_at is None
    refusals = AuditEntry.objects.filter(action="rumours.publish_refused", object_id=str(d.pk))
    assert sorted(e.actor_label for e in refusals) == ["expert", "reviewer", "wujin"]


def test_a_published_verdict_is_never_edited_silently(rumour_people: dict[str, Any],
                                                      django_capture_on_commit_callbacks: Any) -> None:
    from kepu.core.models import AuditEntry
    from kepu.rumours import services
    from kepu.rumours.models import DebunkRevision

    claim = services.claim_enter(actor=rumour_people["editor"], text="喝隔夜水会致癌", org_unit=unit("320412")).claim
    with django_capture_on_commit_callbacks(execute=True):
        d = full_debunk(rumour_people, [claim])
    # When the expert tries to edit the published verdict through the draft
    with pytest.raises(PermissionDenied, match="更正"):
        services.debunk_draft_save(actor=rumour_people["expert"], debunk=d, title=d.title, claim_text=d.claim_text,
                                   verdict="true", explanation="改了")
    # or someone corrects it without a note
    with pytest.raises(PermissionDenied, match="更正说明"):
        services.debunk_correct(actor=rumour_people["reviewer"], debunk=d, note="  ", verdict="misleading")
    # Then nothing changed, and both attempts are in the audit log
    d.refresh_from_db()
    assert d.verdict == "false" and d.status == "published"
    assert AuditEntry.objects.filter(action="rumours.silent_edit_refused", object_id=str(d.pk)).count() == 2
    # When it is corrected with a note, a revision shows old → new and the public page shows 更正
    services.debunk_correct(actor=rumour_people["reviewer"], debunk=d, note="新研究显示该说法有一定误导性，结论调整。",
                            verdict="misleading")
    d.refresh_from_db()
    assert d.verdict == "misleading" and d.status == "corrected" and d.corrected_at is not None
    rev = DebunkRevision.objects.get(debunk=d)
    assert rev.changes == {"verdict": ["false", "misleading"]}
    entry = AuditEntry.objects.get(action="rumours.debunk_correct", object_id=str(d.pk))
    assert entry.changes == {"verdict": ["false", "misleading"]}
    page = Client().get(f"/me/rumours/{d.pk}/").content.decode()
    assert "更正" in page and "新研究显示该说法有一定误导性" in page and "误导" in page
    # A district officer without a review role cannot correct it
    with pytest.raises(PermissionDenied):
        services.debunk_correct(actor=rumour_people["wujin"], debunk=d, note="x", verdict="true")


def test_returned_drafts_go_back_to_the_expert(rumour_people: dict[str, Any]) -> None:
    from kepu.rumours import services

    d = _draft(rumour_people)
    services.debunk_submit(actor=rumour_people["expert"], debunk=d)
    with pytest.raises(InputError, match="审核"):
        services.debunk_draft_save(actor=rumour_people["expert"], debunk=d, title="x", claim_text="x",
                                   verdict="false", explanation="x")
    services.debunk_return(actor=rumour_people["reviewer"], debunk=d, comment="请补充权威来源")
    d.refresh_from_db()
    assert d.status == "draft" and d.review_comment == "请补充权威来源"


def test_submitting_needs_verdict_explanation_and_sources(rumour_people: dict[str, Any]) -> None:
    from kepu.rumours import services

    claim = services.claim_enter(actor=rumour_people["editor"], text="喝隔夜水会致癌", org_unit=unit("320412")).claim
    d = services.debunk_open(actor=rumour_people["editor"], claims=[claim])
    services.debunk_assign(actor=rumour_people["editor"], debunk=d, expert=rumour_people["expert"])
    with pytest.raises(InputError, match="结论、解读、来源"):
        services.debunk_submit(actor=rumour_people["expert"], debunk=d)
    with pytest.raises(InputError, match="网址"):
        services.debunk_draft_save(actor=rumour_people["expert"], debunk=d, title="t", claim_text="c",
                                   verdict="false", explanation="e", sources=[{"url": "javascript:alert(1)",
                                                                               "title": "x"}])


def test_district_officers_triage_only_their_district(rumour_people: dict[str, Any]) -> None:
    from kepu.rumours import selectors, services

    mine = services.claim_enter(actor=rumour_people["office"], text="喝隔夜水会致癌", org_unit=unit("320412")).claim
    theirs = services.claim_enter(actor=rumour_people["office"], text="吃碘盐防辐射", org_unit=unit("320411")).claim
    assert list(selectors.claims_visible(rumour_people["wujin"])) == [mine]
    assert set(selectors.claims_visible(rumour_people["office"])) == {mine, theirs}
    with pytest.raises(PermissionDenied):
        services.debunk_open(actor=rumour_people["wujin"], claims=[theirs])
    with pytest.raises(PermissionDenied):
        services.claim_dismiss(actor=rumour_people["wujin"], claim=theirs)
    theirs.refresh_from_db()
    assert theirs.status == "new" and theirs.debunk_id is None
    services.claim_dismiss(actor=rumour_people["wujin"], claim=mine, reason="非谣言")
    mine.refresh_from_db()
    assert mine.status == "dismissed"


def test_claim_review_json_ld_has_the_required_and_recommended_properties(
        rumour_people: dict[str, Any], django_capture_on_commit_callbacks: Any) -> None:
    from kepu.rumours import services

    claim = services.claim_enter(actor=rumour_people["editor"], text="喝隔夜水会致癌", org_unit=unit("320412"),
                                 media="微信群转发").claim
    with django_capture_on_commit_callbacks(execute=True):
        d = full_debunk(rumour_people, [claim])
    response = Client().get(f"/me/rumours/{d.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    blocks = re.findall(r'<script type="application/ld\+json"[^>]*>(.*?)</script>', html, re.S)
    assert len(blocks) == 1
    review = json.loads(blocks[0])
    # schema.org ClaimReview (Google fact-check markup): required and recommended properties
    assert review["@context"] == "https://schema.org" and review["@type"] == "ClaimReview"
    assert review["claimReviewed"] == "喝隔夜水会致癌"
    assert review["url"] == f"http://testserver/me/rumours/{d.pk}/"
    assert dt.date.fromisoformat(review["datePublished"]) == timezone.localdate()
    assert review["author"]["@type"] == "Organization" and review["author"]["name"]
    rating = review["reviewRating"]
    assert rating["@type"] == "Rating"
    assert rating["worstRating"] <= rating["ratingValue"] <= rating["bestRating"]
    assert (rating["ratingValue"], rating["bestRating"], rating["worstRating"]) == (1, 5, 1)
    assert rating["alternateName"] == "谣言"
    item = review["itemReviewed"]
    assert item["@type"] == "Claim"
    assert item["appearance"][0]["name"] == "微信群转发" and item["firstAppearance"]["@type"] == "CreativeWork"
    assert dt.date.fromisoformat(item["firstAppearance"]["datePublished"]) == timezone.localdate()
    # The page is public; unpublished debunks are not
    draft = _draft(rumour_people, "5G基站致癌")
    assert Client().get(f"/me/rumours/{draft.pk}/").status_code == 404


def test_json_ld_cannot_break_out_of_its_script_element(rumour_people: dict[str, Any],
                                                         django_capture_on_commit_callbacks: Any) -> None:
    from kepu.rumours import services

    text = "</script><script>alert(1)</script>说法"
    claim = services.claim_enter(actor=rumour_people["editor"], text="&lt;/script&gt;隔夜水",
                                 org_unit=unit("320412")).claim
    with django_capture_on_commit_callbacks(execute=True):
        d = full_debunk(rumour_people, [claim], claim_text="&lt;/script&gt;" + text)
    html = Client().get(f"/me/rumours/{d.pk}/").content.decode()
    block = re.findall(r'<script type="application/ld\+json"[^>]*>(.*?)</script>', html, re.S)[0]
    assert "</script" not in block and json.loads(block)["@type"] == "ClaimReview"


def test_the_monthly_list_ranks_clusters_by_reports_and_shows_answers(
        rumour_people: dict[str, Any], django_capture_on_commit_callbacks: Any) -> None:
    from kepu.rumours import selectors, services
    from kepu.rumours.models import Claim

    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(4):
            services.claim_submit(text="喝隔夜水会致癌", source="public_form", org_unit=unit("320412"), client=f"a{i}",
                                  received_at=now)
        for i in range(2):
            services.claim_submit(text="吃碘盐防辐射", source="public_form", org_unit=unit("320411"), client=f"b{i}",
                                  received_at=now)
        first = Claim.objects.get(text="喝隔夜水会致癌")
        d = full_debunk(rumour_people, [first])
    rows = selectors.monthly_top(Claim.objects.all(), year=now.year, month=timezone.localtime(now).month)
    assert [(r.text, r.count) for r in rows] == [("喝隔夜水会致癌", 4), ("吃碘盐防辐射", 2)]
    assert rows[0].debunk == d and rows[1].debunk is None
    page = Client().get("/me/rumours/monthly/").content.decode()
    assert page.index("喝隔夜水会致癌") < page.index("吃碘盐防辐射") and "4 次反映" in page
    staff = Client()
    staff.login(username="xinbei", password=PASSWORD)
    staff_page = staff.get("/rumours/monthly/").content.decode()
    assert "吃碘盐防辐射" in staff_page and "喝隔夜水会致癌" not in staff_page  # Xinbei sees its own district
