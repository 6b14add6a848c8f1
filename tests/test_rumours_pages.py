# ruff: noqa: F811  (pytest fixtures are imported from tests/test_rumours_fixtures.py and named as arguments)
"""The rumours pages: the public report form (honeypot, minimum fill time by a signed timestamp, rate
limits per client and per citizen, bounded body, sanitised text), the citizen's link to their inbox,
and the staff pages scoped to the user's units."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from django.core import signing
from django.test import Client

from tests.test_rumours_fixtures import (  # noqa: F401
    CITIZEN_PASSWORD,
    PASSWORD,
    citizen_of,
    fresh_rate_limits,
    full_debunk,
    rumour_people,
    unit,
)

pytestmark = pytest.mark.django_db
FORM = "/me/rumours/report/"


def _stamp(seconds_ago: float = 30) -> str:
    from kepu.rumours.views import FORM_SALT

    return signing.dumps(time.time() - seconds_ago, salt=FORM_SALT)


def _report(client: Client, text: str = "喝隔夜水会致癌", **extra: Any) -> Any:
    data = {"text": text, "district": "320412", "media": "微信群转发", "topic": "", "started": _stamp(), "website": ""}
    data.update(extra)
    return client.post(FORM, data)


def test_anyone_may_report_and_no_personal_data_is_kept(region: Any,
                                                        django_capture_on_commit_callbacks: Any) -> None:
    from kepu.rumours.models import Claim, ClaimReport

    c = Client()
    page = c.get(FORM)
    assert page.status_code == 200 and 'name="website"' in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        r = _report(c, "<p>喝隔夜水<script>steal()</script>会\u200b致癌</p>")
    assert r.status_code == 302 and r["Location"] == "/me/rumours/report/done/"
    claim = Claim.objects.get()
    assert claim.text == "喝隔夜水会致癌" and claim.source == "public_form" and claim.citizen is None
    assert claim.media == "微信群转发" and claim.district.code == "320412"
    report = ClaimReport.objects.get()
    assert report.citizen is None and len(report.client) == 32  # the day's opaque key, not the address
    assert "127.0.0.1" not in report.client
    assert "已收到" in c.get("/me/rumours/report/done/").content.decode()


def test_a_logged_in_citizen_is_linked_for_the_inbox_answer(rumour_people: dict[str, Any], citizen_of: Any,
                                                             django_capture_on_commit_callbacks: Any) -> None:
    from kepu.outreach.campaign_models import InboxMessage
    from kepu.rumours.models import Claim

    citizen = citizen_of("xiaozhang")
    c = Client()
    c.login(username="xiaozhang", password=CITIZEN_PASSWORD)
    assert "消息" in c.get(FORM).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        assert _report(c).status_code == 302
    claim = Claim.objects.get()
    assert claim.citizen == citizen and claim.source == "citizen"
    with django_capture_on_commit_callbacks(execute=True):
        d = full_debunk(rumour_people, [claim])
    inbox = c.get("/me/inbox/").content.decode()
    assert "您反映的说法有答复了" in inbox
    message = InboxMessage.objects.get(citizen=citizen)
    opened = c.get(f"/me/inbox/m/{message.pk}/")
    assert opened.status_code == 302 and opened["Location"] == f"/me/rumours/{d.pk}/"
    assert "隔夜水" in c.get(opened["Location"]).content.decode()


def test_honeypot_and_too_fast_or_forged_forms_are_refused(region: Any) -> None:
    from kepu.rumours.models import Claim

    c = Client()
    assert _report(c, website="http://spam.example").status_code == 400
    assert _report(c, started=_stamp(seconds_ago=0.5)).status_code == 400
    assert _report(c, started="1700000000").status_code == 400  # not signed
    assert _report(c, started=_stamp(seconds_ago=3 * 24 * 3600)).status_code == 400  # expired
    r = _report(c, started="")
    assert r.status_code == 400 and "提交未被接受" in r.content.decode()
    assert Claim.objects.count() == 0


def test_the_form_is_rate_limited_per_client(region: Any) -> None:
    from kepu.rumours.models import Claim
    from kepu.rumours.services import FORM_PER_CLIENT_HOUR

    c = Client()
    for i in range(FORM_PER_CLIENT_HOUR):
        assert _report(c, f"第 {i} 条不同的说法：吃某某能治百病").status_code == 302
    r = _report(c, "再来一条")
    assert r.status_code == 429 and "次数太多" in r.content.decode()
    assert Claim.objects.count() == FORM_PER_CLIENT_HOUR
    # another network is not affected
    other = Client(REMOTE_ADDR="10.1.2.3")
    assert _report(other, "另一个网络的说法").status_code == 302


def test_the_form_is_rate_limited_per_citizen(region: Any, citizen_of: Any, monkeypatch: Any) -> None:
    from kepu.rumours import services

    monkeypatch.setattr(services, "FORM_PER_CITIZEN_DAY", 2)
    citizen_of("xiaoli")
    for i, addr in enumerate(("10.0.0.1", "10.0.0.2", "10.0.0.3")):
        c = Client(REMOTE_ADDR=addr)
        c.login(username="xiaoli", password=CITIZEN_PASSWORD)
        assert _report(c, f"说法 {i}").status_code == (302 if i < 2 else 429)


def test_a_ten_megabyte_form_body_is_refused_with_413_before_parsing(region: Any) -> None:
    from kepu.rumours.models import Claim

    c = Client()
    r = c.post(FORM, data={"text": "谣" * (10 * 1024 * 1024 // 3), "district": "320412", "started": _stamp()})
    assert r.status_code == 413 and "最多 64 KB" in r.content.decode()
    r = _report(c, "谣" * 2001)
    assert r.status_code == 422 and "最多 2000 个字" in r.content.decode()
    assert Claim.objects.count() == 0


def test_the_form_keeps_its_csrf_check(region: Any) -> None:
    c = Client(enforce_csrf_checks=True)
    assert _report(c).status_code == 403


def test_staff_accounts_use_the_staff_entry_page(rumour_people: dict[str, Any]) -> None:
    c = Client()
    c.login(username="editor", password=PASSWORD)
    assert c.get(FORM).status_code == 403
    r = c.post("/rumours/claims/new/", {"text": "吃碘盐防辐射", "org_unit": str(unit("320412").pk), "media": "微博",
                                         "topic": "health"})
    assert r.status_code == 302
    assert "吃碘盐防辐射" in c.get("/rumours/claims/").content.decode()


def test_district_officers_see_only_their_districts_claims_and_debunks(rumour_people: dict[str, Any]) -> None:
    from kepu.rumours import services

    services.claim_enter(actor=rumour_people["office"], text="武进的说法", org_unit=unit("320412"))
    other = services.claim_enter(actor=rumour_people["office"], text="新北的说法", org_unit=unit("320411")).claim
    d = services.debunk_open(actor=rumour_people["office"], claims=[other])
    c = Client()
    c.login(username="wujin", password=PASSWORD)
    page = c.get("/rumours/claims/").content.decode()
    assert "武进的说法" in page and "新北的说法" not in page
    assert c.get(f"/rumours/debunks/{d.pk}/").status_code == 404
    # Triage of another district's claim by id is ignored (not in scope)
    r = c.post("/rumours/claims/triage/", {"claim": [str(other.pk)], "action": "dismiss"})
    assert r.status_code == 302
    other.refresh_from_db()
    assert other.status == "triaged"
    # Xinbei's officer sees it
    x = Client()
    x.login(username="xinbei", password=PASSWORD)
    assert "新北的说法" in x.get("/rumours/claims/?status=all").content.decode()
    assert x.get(f"/rumours/debunks/{d.pk}/").status_code == 200


def test_the_expert_drafts_and_a_reviewer_publishes_through_the_pages(
        rumour_people: dict[str, Any], django_capture_on_commit_callbacks: Any) -> None:
    from kepu.rumours import services
    from kepu.rumours.models import Debunk

    claim = services.claim_enter(actor=rumour_people["editor"], text="喝隔夜水会致癌", org_unit=unit("320412")).claim
    editor = Client()
    editor.login(username="editor", password=PASSWORD)
    r = editor.post("/rumours/claims/triage/", {"claim": [str(claim.pk)], "action": "open"})
    d = Debunk.objects.get()
    assert r["Location"] == f"/rumours/debunks/{d.pk}/"
    assert "专家expert（演示）" in editor.get(r["Location"]).content.decode()
    editor.post(f"/rumours/debunks/{d.pk}/action/", {"action": "assign", "expert": str(rumour_people["expert"].pk)})
    expert = Client()
    expert.login(username="expert", password=PASSWORD)
    assert "分派给我撰写的" in expert.get("/rumours/debunks/").content.decode()
    r = expert.post(f"/rumours/debunks/{d.pk}/edit/", {
        "title": "隔夜水不致癌", "claim_text": "喝隔夜水会致癌", "verdict": "false", "topic": "health",
        "explanation": "亚硝酸盐含量极低。", "evidence": "", "sources": "国家卫健委科普 https://example.org/a",
        "then": "submit"})
    assert r.status_code == 302
    d.refresh_from_db()
    assert d.status == "in_review" and d.sources == [{"url": "https://example.org/a", "title": "国家卫健委科普"}]
    # The expert cannot publish their own (the page offers no button; the action is refused)
    page = expert.get(f"/rumours/debunks/{d.pk}/").content.decode()
    assert 'data-testid="publish"' not in page
    expert.post(f"/rumours/debunks/{d.pk}/action/", {"action": "publish"})
    d.refresh_from_db()
    assert d.status == "in_review"
    reviewer = Client()
    reviewer.login(username="reviewer", password=PASSWORD)
    assert 'data-testid="publish"' in reviewer.get(f"/rumours/debunks/{d.pk}/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        reviewer.post(f"/rumours/debunks/{d.pk}/action/", {"action": "publish"})
    d.refresh_from_db()
    assert d.status == "published"
    public = Client().get("/me/rumours/").content.decode()
    assert "隔夜水不致癌" in public


def test_citizens_cannot_open_staff_pages_and_partners_are_for_the_office(rumour_people: dict[str, Any],
                                                                          citizen_of: Any) -> None:
    citizen_of("xiaozhao")
    c = Client()
    c.login(username="xiaozhao", password=CITIZEN_PASSWORD)
    assert c.get("/rumours/claims/").status_code in (302, 403)
    w = Client()
    w.login(username="wujin", password=PASSWORD)
    assert w.get("/rumours/partners/").status_code == 403
    o = Client()
    o.login(username="office", password=PASSWORD)
    r = o.post("/rumours/partners/", {"name": "常州日报客户端（演示）", "org_unit": str(unit("320400").pk)})
    token = re.search(r"<code>(rp_[^<]+)</code>", r.content.decode())
    assert token is not None
    from kepu.rumours.services import partner_for_token

    assert partner_for_token(token.group(1)) is not None


def test_pages_have_no_english_or_codes(rumour_people: dict[str, Any], django_capture_on_commit_callbacks: Any) -> None:
    from kepu.rumours import services

    claim = services.claim_enter(actor=rumour_people["editor"], text="喝隔夜水会致癌", org_unit=unit("320412"),
                                 topic="health").claim
    with django_capture_on_commit_callbacks(execute=True):
        d = full_debunk(rumour_people, [claim])
    c = Client()
    c.login(username="office", password=PASSWORD)
    for url in ("/rumours/claims/?status=all", f"/rumours/debunks/{d.pk}/", "/rumours/debunks/", "/rumours/monitor/",
                "/rumours/monthly/"):
        html = c.get(url).content.decode()
        body = re.sub(r"<[^>]+>", " ", html.split("<main>")[1].split("</main>")[0])
        for word in ("in_review", "public_form", "health", "published", "None"):
            assert word not in body, (url, word)


def test_a_flood_of_one_text_through_the_form_is_one_claim_then_refused(region: Any) -> None:
    from kepu.rumours.models import Claim, ClaimReport
    from kepu.rumours.services import FORM_PER_CLIENT_HOUR

    c = Client()
    codes = [_report(c, "喝隔夜水会致癌" + "！" * (i % 3)).status_code for i in range(FORM_PER_CLIENT_HOUR + 5)]
    assert codes == [302] * FORM_PER_CLIENT_HOUR + [429] * 5
    claim = Claim.objects.get()
    assert (claim.dup_count, claim.absorbed_count) == (1, FORM_PER_CLIENT_HOUR - 1)
    assert ClaimReport.objects.count() == 1


def test_pages_in_english_when_chosen(region: Any) -> None:
    c = Client()
    c.post("/i18n/setlang/", {"language": "en", "next": "/me/rumours/report/"})
    html = c.get(FORM).content.decode()
    assert "Report a rumour" in html and "举报谣言" not in html
