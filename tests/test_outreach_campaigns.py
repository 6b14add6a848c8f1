"""Push campaigns (issue 9, points 5 and 6): targeting with consent, four-eyes approval, the seeded
holdout, channels (inbox, SMS and WeChat outboxes), idempotent batches and recovery, rate limit,
opening through the inbox, a citizen deleting their account mid-campaign, the console, and the
effect against the holdout with Newcombe's interval."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from conftest import PASSWORD

pytestmark = pytest.mark.django_db

CITY, WUJIN, TIANNING = "320400", "320412", "320402"
ALL_AGES = {"field": "age_band", "op": "in", "value": ["18-29", "30-39", "40-49", "50-59", "60-69", "70+"]}


def make_citizens(n: int, *, district: str = WUJIN, push: bool | None = True, phone: bool = True,
                  prefix: str = "c") -> list[Any]:
    """n citizens of a district; push consent granted (True), withdrawn (False) or never asked (None)."""
    from django.contrib.auth.models import User

    from kepu.citizens.models import Citizen, Consent
    from kepu.core.models import OrgUnit
    from kepu.literacy.online import pseudonym

    unit = OrgUnit.objects.get(code=district)
    start = User.objects.count()
    users = User.objects.bulk_create([User(username=f"{prefix}{start + i}") for i in range(n)])
    users = list(User.objects.filter(username__in=[u.username for u in users]).order_by("pk"))
    citizens = Citizen.objects.bulk_create([
        Citizen(user=u, pseudonym=pseudonym(f"citizen:{u.pk}"), district=unit, age_band="50-59",
                phone=f"139{u.pk:08d}" if phone else "") for u in users])
    citizens = list(Citizen.objects.filter(user__in=users).order_by("pk"))
    if push is not None:
        Consent.objects.bulk_create([Consent(citizen=c, purpose="push", granted=push) for c in citizens])
    return citizens


@pytest.fixture
def staff(make_user: Any) -> dict[str, Any]:
    return {
        "camp": make_user("camp", ("campaigner", CITY, None)),
        "camp2": make_user("camp2", ("campaigner", CITY, None)),
        "office": make_user("office", ("office_admin", CITY, None)),
        "wujin": make_user("camp_wujin", ("campaigner", WUJIN, None)),
        "editor": make_user("editor", ("editor", CITY, None)),
    }


@pytest.fixture
def outbox(settings: Any, tmp_path: Path) -> Path:
    settings.DATA_DIR = tmp_path
    return tmp_path / "outbox"


def _segment(unit: str = CITY, rules: dict[str, Any] | None = None) -> Any:
    from kepu.core.models import OrgUnit
    from kepu.outreach.segment_models import Segment

    return Segment.objects.create(code=f"everyone{Segment.objects.count()}", name_zh="所有人", name_en="Everyone",
                                  rules=rules or ALL_AGES,
                                  org_unit=OrgUnit.objects.get(code=unit))


def _resource(code: str = "", status: str = "published") -> Any:
    from kepu.outreach.models import Resource

    return Resource.objects.create(code=code or f"r{Resource.objects.count() + 1}", title_zh="喝隔夜水会致癌吗",
                                   title_en="Overnight water", status=status,
                                   summary_zh="不会。", published_at=timezone.now())


def _campaign(user: Any, *, unit: str = CITY, segment: Any = None, channel: str = "inbox", holdout: float = 0.0,
              rate: int = 0, seed: int = 7, resources: list[Any] | None = None, send_at: Any = None,
              **kw: Any) -> Any:
    from kepu.core.models import OrgUnit
    from kepu.outreach.campaigns import campaign_create

    return campaign_create(
        user=user, name="夏季健康", org_unit=OrgUnit.objects.get(code=unit), segment=segment or _segment(),
        resources=resources or [_resource()], channel=channel, title="健康提醒", message="来看看这篇科普。",
        send_at=send_at or timezone.now(), rate_per_minute=rate, holdout_share=holdout, holdout_seed=seed, **kw)


def _run(campaign: Any, staff: dict[str, Any], captured: Any) -> Any:
    """Approve (by the second campaigner) and start; the in-process task backend runs it on commit."""
    from kepu.outreach.campaigns import campaign_approve, campaign_start

    campaign_approve(campaign=campaign, user=staff["camp2"])
    with captured(execute=True):
        campaign_start(campaign=campaign, user=staff["camp"])
    campaign.refresh_from_db()
    return campaign


# --- targeting and holdout -----------------------------------------------------------------------


def test_only_citizens_who_consent_to_push_are_targeted_and_sms_needs_a_phone(region: Any, staff: Any) -> None:
    from kepu.outreach.campaigns import targets

    yes = make_citizens(3)
    make_citizens(2, push=False, prefix="no")
    make_citizens(2, push=None, prefix="never")
    no_phone = make_citizens(1, phone=False, prefix="nophone")
    segment = _segment()
    inbox = _campaign(staff["camp"], segment=segment)
    sms = _campaign(staff["camp"], segment=segment, channel="sms")
    assert set(targets(inbox)) == {*yes, *no_phone}
    assert set(targets(sms)) == set(yes)


def test_a_district_campaign_reaches_only_its_district(region: Any, staff: Any) -> None:
    from kepu.outreach.campaigns import targets

    wujin = make_citizens(2)
    make_citizens(2, district=TIANNING, prefix="tn")
    campaign = _campaign(staff["wujin"], unit=WUJIN, segment=_segment())
    assert set(targets(campaign)) == set(wujin)


def test_the_holdout_is_seeded_reproducible_and_stored_per_citizen(region: Any, staff: Any) -> None:
    from kepu.outreach.campaign_models import Delivery
    from kepu.outreach.campaigns import campaign_fanout, in_holdout

    citizens = make_citizens(400)
    campaign = _campaign(staff["camp"], holdout=0.25, seed=2026)
    assert campaign_fanout(campaign.pk) == 400
    rows = dict(Delivery.objects.filter(campaign=campaign).values_list("citizen_id", "holdout"))
    assert len(rows) == 400
    held = sum(rows.values())
    assert 70 <= held <= 130  # 25 % of 400 give or take 3 standard errors
    for c in citizens:
        assert rows[c.pk] == in_holdout(2026, c.pseudonym, 0.25)
    assert set(Delivery.objects.filter(campaign=campaign, holdout=True).values_list("status", flat=True)) == {"held"}
    # Another seed draws another holdout; the same seed the same one.
    assert [in_holdout(1, c.pseudonym, 0.25) for c in citizens] != [rows[c.pk] for c in citizens]
    # Fanning out again adds nothing (the unique key), and the assignment stays.
    campaign.fanned_out = False
    campaign.save(update_fields=["fanned_out"])
    campaign_fanout(campaign.pk, batch=37)
    assert dict(Delivery.objects.filter(campaign=campaign).values_list("citizen_id", "holdout")) == rows


# --- workflow and permissions -------------------------------------------------------------------


def test_four_eyes_nobody_approves_their_own_campaign(region: Any, staff: Any) -> None:
    from kepu.core.errors import InputError, PermissionDenied
    from kepu.core.models import AuditEntry
    from kepu.outreach.campaigns import campaign_approve, campaign_start

    campaign = _campaign(staff["camp"])
    with pytest.raises(PermissionDenied):
        campaign_approve(campaign=campaign, user=staff["camp"])
    with pytest.raises(PermissionDenied):  # a district campaigner cannot approve the city's campaign
        campaign_approve(campaign=campaign, user=staff["wujin"])
    with pytest.raises(PermissionDenied):  # an editor is no campaigner
        campaign_approve(campaign=campaign, user=staff["editor"])
    with pytest.raises(InputError):  # a draft cannot be started
        campaign_start(campaign=campaign, user=staff["camp"])
    campaign.refresh_from_db()
    assert campaign.status == "draft" and campaign.approved_by is None
    campaign_approve(campaign=campaign, user=staff["office"])
    assert campaign.status == "approved" and campaign.approved_by == staff["office"]
    with pytest.raises(InputError):  # approving twice does nothing more
        campaign_approve(campaign=campaign, user=staff["camp2"])
    actions = list(AuditEntry.objects.filter(object_type="outreach.campaign").values_list("action", flat=True))
    assert sorted(actions) == ["campaign.approve", "campaign.create"]


@pytest.mark.parametrize(("kw", "message"), [
    ({"holdout": 0.8}, "对照组比例"),
    ({"measure": "quiz_accuracy"}, "目标素质维度"),
    ({"channel": "fax"}, "未知的推送渠道"),
])
def test_bad_campaigns_are_refused_with_a_clear_error(region: Any, staff: Any, kw: dict[str, Any],
                                                      message: str) -> None:
    from kepu.core.errors import InputError
    from kepu.outreach.campaign_models import Campaign

    with pytest.raises(InputError, match=message):
        _campaign(staff["camp"], **kw)
    assert not Campaign.objects.exists()


def test_unpublished_content_and_other_units_are_refused(region: Any, staff: Any) -> None:
    from kepu.core.errors import InputError, PermissionDenied
    from kepu.outreach.campaign_models import Campaign

    with pytest.raises(InputError, match="已发布"):
        _campaign(staff["camp"], resources=[_resource("draft1", status="draft")])
    with pytest.raises(PermissionDenied):
        _campaign(staff["wujin"], unit=TIANNING)
    with pytest.raises(PermissionDenied):
        _campaign(staff["editor"])
    assert not Campaign.objects.exists()


# --- sending -------------------------------------------------------------------------------------


def test_an_inbox_campaign_sends_once_to_the_treated_and_never_to_the_holdout(
    region: Any, staff: Any, django_capture_on_commit_callbacks: Any,
) -> None:
    from kepu.outreach.campaign_models import Delivery, InboxMessage
    from kepu.outreach.campaigns import campaign_send, campaign_stats

    make_citizens(120)
    campaign = _run(_campaign(staff["camp"], holdout=0.2), staff, django_capture_on_commit_callbacks)
    assert campaign.status == "done" and campaign.started_at is not None
    stats = campaign_stats(campaign)
    assert stats["targeted"] == 120 and stats["sent"] == stats["treated"] > 0 and stats["held"] > 0
    assert stats["queued"] == stats["sending"] == stats["failed"] == 0
    treated = set(Delivery.objects.filter(campaign=campaign, holdout=False).values_list("pk", flat=True))
    assert set(InboxMessage.objects.values_list("delivery_id", flat=True)) == treated
    assert InboxMessage.objects.count() == len(treated)
    # A retried task changes nothing.
    assert campaign_send(campaign.pk) == 0
    assert InboxMessage.objects.count() == len(treated)


def test_sms_and_wechat_write_one_outbox_line_per_delivery(
    region: Any, staff: Any, outbox: Path, django_capture_on_commit_callbacks: Any,
) -> None:
    from kepu.outreach.campaign_models import Delivery, InboxMessage

    citizens = make_citizens(5)
    segment = _segment()
    sms = _run(_campaign(staff["camp"], segment=segment, channel="sms"), staff, django_capture_on_commit_callbacks)
    wechat = _run(_campaign(staff["camp"], segment=segment, channel="wechat"), staff,
                  django_capture_on_commit_callbacks)
    sms_lines = [json.loads(x) for x in (outbox / "sms.jsonl").read_text().splitlines()]
    wechat_lines = [json.loads(x) for x in (outbox / "wechat.jsonl").read_text().splitlines()]
    assert sorted(x["to"] for x in sms_lines) == sorted(c.phone for c in citizens)
    assert sorted(x["touser"] for x in wechat_lines) == sorted(c.pseudonym for c in citizens)
    assert {x["delivery"] for x in sms_lines} == set(Delivery.objects.filter(campaign=sms).values_list("pk", flat=True))
    assert all(f"/me/inbox/{x['delivery']}/" in x["text"] for x in sms_lines)
    assert all(x["url"].endswith(f"/me/inbox/{x['delivery']}/") for x in wechat_lines)
    assert sms.status == wechat.status == "done"
    assert not InboxMessage.objects.exists()


def test_a_delivery_that_cannot_go_out_is_failed_with_the_reason(region: Any, staff: Any, outbox: Path) -> None:
    from kepu.outreach.campaign_models import Campaign, Delivery
    from kepu.outreach.campaigns import campaign_fanout, campaign_send

    [citizen] = make_citizens(1)
    campaign = _campaign(staff["camp"], channel="sms")
    Campaign.objects.filter(pk=campaign.pk).update(status="running")
    campaign_fanout(campaign.pk)
    type(citizen).objects.filter(pk=citizen.pk).update(phone="")  # the number was removed after targeting
    assert campaign_send(campaign.pk) == 0
    delivery = Delivery.objects.get(campaign=campaign)
    assert delivery.status == "failed" and "手机号" in delivery.error
    assert not (outbox / "sms.jsonl").exists()


def test_two_workers_claim_disjoint_batches(region: Any, staff: Any) -> None:
    from kepu.outreach.campaign_models import Delivery
    from kepu.outreach.campaigns import _claim, campaign_fanout

    make_citizens(30)
    campaign = _campaign(staff["camp"])
    campaign_fanout(campaign.pk)
    assert (_claim(campaign.pk, "w1/a", 20), _claim(campaign.pk, "w2/b", 20), _claim(campaign.pk, "w3/c", 20)) == (
        20, 10, 0)
    claims = dict(Delivery.objects.filter(campaign=campaign).values_list("pk", "claim"))
    assert sorted(claims.values()).count("w1/a") == 20 and list(claims.values()).count("w2/b") == 10
    assert set(Delivery.objects.filter(campaign=campaign).values_list("status", flat=True)) == {"sending"}


def test_a_crashed_batch_is_recovered_without_sending_twice(region: Any, staff: Any, outbox: Path) -> None:
    """A worker died after claiming 4 rows and writing 2 of them to the SMS gateway: the next run
    asks the outbox, records those 2 as sent and sends only the other 2 (and the rest)."""
    from kepu.outreach.campaign_models import Campaign, Delivery
    from kepu.outreach.campaigns import campaign_fanout, campaign_send
    from kepu.outreach.channels import CHANNELS, Outgoing

    make_citizens(10)
    campaign = _campaign(staff["camp"], channel="sms")
    Campaign.objects.filter(pk=campaign.pk).update(status="running")
    campaign.refresh_from_db()
    campaign_fanout(campaign.pk)
    dead = "gone-host:999999:x/batch"  # another machine: abandoned only once stale
    crashed = list(Delivery.objects.filter(campaign=campaign).order_by("pk")[:4])
    Delivery.objects.filter(pk__in=[d.pk for d in crashed]).update(
        status="sending", claim=dead, claimed_at=timezone.now() - dt.timedelta(hours=2))
    CHANNELS["sms"].send_many(campaign, [Outgoing(d.pk, d.citizen_id, d.citizen.pseudonym, d.citizen.phone)
                                         for d in crashed[:2]])
    assert campaign_send(campaign.pk) == 10
    lines = [json.loads(x)["delivery"] for x in (outbox / "sms.jsonl").read_text().splitlines()]
    assert sorted(lines) == sorted(Delivery.objects.filter(campaign=campaign).values_list("pk", flat=True))
    assert set(Delivery.objects.filter(campaign=campaign).values_list("status", flat=True)) == {"sent"}


def test_a_live_workers_batch_is_left_alone(region: Any, staff: Any) -> None:
    from kepu.outreach.campaign_models import Campaign, Delivery
    from kepu.outreach.campaigns import campaign_fanout, campaign_send

    make_citizens(3)
    campaign = _campaign(staff["camp"])
    Campaign.objects.filter(pk=campaign.pk).update(status="running")
    campaign_fanout(campaign.pk)
    busy = Delivery.objects.filter(campaign=campaign).order_by("pk").first()
    assert busy is not None
    Delivery.objects.filter(pk=busy.pk).update(status="sending", claim="other-host:1:x/b", claimed_at=timezone.now())
    assert campaign_send(campaign.pk) == 2
    busy.refresh_from_db()
    campaign.refresh_from_db()
    assert busy.status == "sending" and campaign.status == "running"  # not done while a batch is in flight


def test_the_rate_limit_sends_a_minutes_worth_per_run(region: Any, staff: Any,
                                                      django_capture_on_commit_callbacks: Any) -> None:
    from kepu.outreach.campaigns import campaign_resume, campaign_stats

    make_citizens(8)
    campaign = _run(_campaign(staff["camp"], rate=3), staff, django_capture_on_commit_callbacks)
    assert campaign_stats(campaign)["sent"] == 3 and campaign.status == "running"
    with django_capture_on_commit_callbacks(execute=True):
        campaign_resume(campaign=campaign, user=staff["camp"])
    assert campaign_stats(campaign)["sent"] == 6


def test_a_database_worker_defers_the_campaign_to_its_send_time(region: Any, staff: Any, settings: Any,
                                                                django_capture_on_commit_callbacks: Any) -> None:
    from django_tasks_db.models import DBTaskResult

    from kepu.outreach.campaigns import campaign_approve, campaign_start

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    later = timezone.now() + dt.timedelta(hours=3)
    campaign = _campaign(staff["camp"], send_at=later)
    campaign_approve(campaign=campaign, user=staff["camp2"])
    with django_capture_on_commit_callbacks(execute=True):
        campaign_start(campaign=campaign, user=staff["camp"])
    task = DBTaskResult.objects.get()
    assert task.task_path.endswith("campaign_run") and task.run_after == later


def test_cancelling_stops_sending(region: Any, staff: Any) -> None:
    from kepu.outreach.campaign_models import Campaign
    from kepu.outreach.campaigns import campaign_cancel, campaign_fanout, campaign_send

    make_citizens(4)
    campaign = _campaign(staff["camp"])
    Campaign.objects.filter(pk=campaign.pk).update(status="running")
    campaign_fanout(campaign.pk)
    campaign.refresh_from_db()
    campaign_cancel(campaign=campaign, user=staff["camp"])
    assert campaign_send(campaign.pk) == 0
    campaign.refresh_from_db()
    assert campaign.status == "cancelled"


# --- citizens ------------------------------------------------------------------------------------


def _login(client: Client, citizen: Any) -> Client:
    citizen.user.set_password(PASSWORD)
    citizen.user.save()
    assert client.login(username=citizen.user.username, password=PASSWORD)
    return client


def test_opening_the_inbox_message_marks_it_opened_once_and_records_the_open(
    region: Any, staff: Any, client: Client, django_capture_on_commit_callbacks: Any,
) -> None:
    from kepu.outreach.campaign_models import Delivery
    from kepu.outreach.engagement_models import Interaction

    alice, bob = make_citizens(2)
    campaign = _run(_campaign(staff["camp"]), staff, django_capture_on_commit_callbacks)
    mine = Delivery.objects.get(campaign=campaign, citizen=alice)
    theirs = Delivery.objects.get(campaign=campaign, citizen=bob)
    _login(client, alice)
    page = client.get("/me/inbox/")
    assert page.status_code == 200 and "健康提醒" in page.content.decode()
    assert f"/me/inbox/{mine.pk}/" in page.content.decode() and f"/me/inbox/{theirs.pk}/" not in page.content.decode()
    for _ in range(2):
        opened = client.get(f"/me/inbox/{mine.pk}/")
        assert opened.status_code == 200 and "喝隔夜水会致癌吗" in opened.content.decode()
    mine.refresh_from_db()
    assert mine.status == "opened" and mine.opened_at is not None and mine.inbox_message.read_at is not None
    opens = Interaction.objects.filter(kind="open")
    assert opens.count() == 1 and opens.get().campaign_id == campaign.pk and opens.get().citizen == alice
    assert client.get(f"/me/inbox/{theirs.pk}/").status_code == 404  # not hers
    theirs.refresh_from_db()
    assert theirs.status == "sent"


def test_staff_cannot_use_the_inbox_and_citizens_cannot_use_the_console(region: Any, staff: Any,
                                                                       client: Client) -> None:
    [citizen] = make_citizens(1)
    client.force_login(staff["camp"])
    assert client.get("/me/inbox/").status_code == 403
    client.logout()
    assert client.get("/me/inbox/").status_code == 302  # to the citizen login
    _login(client, citizen)
    assert client.get("/outreach/campaigns/").status_code in (302, 403)
    client.force_login(staff["editor"])
    assert client.get("/outreach/campaigns/").status_code == 403


def test_a_citizen_deleting_their_account_mid_campaign(
    region: Any, staff: Any, django_capture_on_commit_callbacks: Any,
) -> None:
    from kepu.citizens.services import citizen_delete
    from kepu.outreach.campaign_models import Delivery, InboxMessage
    from kepu.outreach.campaigns import campaign_resume, campaign_stats

    citizens = make_citizens(6)
    campaign = _run(_campaign(staff["camp"], rate=2), staff, django_capture_on_commit_callbacks)
    sent = Delivery.objects.filter(campaign=campaign, status="sent").values_list("citizen_id", flat=True)
    first_sent = next(c for c in citizens if c.pk in set(sent))
    queued = next(c for c in citizens if c.pk not in set(sent))
    for c in (first_sent, queued):
        c.user.set_password(PASSWORD)
        c.user.save()
        citizen_delete(citizen=c, password=PASSWORD)
    assert not Delivery.objects.filter(citizen_id__in=[first_sent.pk, queued.pk]).exists()
    assert not InboxMessage.objects.filter(citizen_id__in=[first_sent.pk, queued.pk]).exists()
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            if campaign.status == "running":
                campaign_resume(campaign=campaign, user=staff["camp"])
        campaign.refresh_from_db()
    assert campaign.status == "done"
    stats = campaign_stats(campaign)
    assert stats["targeted"] == stats["sent"] == 4 == InboxMessage.objects.count()


# --- the effect ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("counts", "expected"), [
    # Newcombe (1998), Table II, examples (a) and (b); the others from R:
    #   w <- function(x, n) prop.test(x, n, correct = FALSE)$conf.int
    #   d - sqrt((p1 - w(x1,n1)[1])^2 + (w(x2,n2)[2] - p2)^2), d + sqrt((w(x1,n1)[2] - p1)^2 + (p2 - w(x2,n2)[1])^2)
    ((56, 70, 48, 80), (0.2, 0.0524314724, 0.3338726540)),
    ((9, 10, 3, 10), (0.6, 0.1705227239, 0.8090179735)),
    ((120, 400, 25, 100), (0.05, -0.05243003718, 0.13793418025)),
    ((0, 10, 0, 20), (0.0, -0.1611251581, 0.2775327999)),
])
def test_newcombe_hybrid_score_interval_matches_the_paper_and_r(counts: tuple[int, int, int, int],
                                                                expected: tuple[float, float, float]) -> None:
    from kepu.outreach.effects import newcombe_difference

    assert newcombe_difference(*counts) == pytest.approx(expected, abs=1e-9)


def _complete(citizens: list[Any], resource: Any) -> None:
    from kepu.outreach.engagement_models import Interaction

    Interaction.objects.bulk_create([Interaction(pseudonym=c.pseudonym, citizen=c, resource=resource,
                                                 kind="complete", at=timezone.now()) for c in citizens])


def test_the_campaign_page_reports_the_effect_and_says_when_it_is_not_significant(
    region: Any, staff: Any, client: Client, django_capture_on_commit_callbacks: Any,
) -> None:
    from kepu.outreach.campaign_models import Delivery
    from kepu.outreach.effects import campaign_effect

    citizens = make_citizens(200)
    resource = _resource()
    campaign = _run(_campaign(staff["camp"], holdout=0.5, seed=3, resources=[resource]), staff,
                    django_capture_on_commit_callbacks)
    arm = dict(Delivery.objects.filter(campaign=campaign).values_list("citizen_id", "holdout"))
    treated = [c for c in citizens if not arm[c.pk]]
    held = [c for c in citizens if arm[c.pk]]
    client.force_login(staff["camp"])

    # Equal completion in both arms: no difference to report.
    _complete(treated[:10], resource)
    _complete(held[:10], resource)
    effect = campaign_effect(campaign)
    assert effect is not None and effect.low < 0 < effect.high and not effect.significant
    assert (effect.treated_trials, effect.holdout_trials) == (len(treated), len(held))
    page = client.get(f"/outreach/campaigns/{campaign.pk}/").content.decode()
    assert "与对照组无显著差异" in page

    # Many more completions among the treated: significant, the CI excludes 0.
    _complete(treated[10:70], resource)
    effect = campaign_effect(campaign)
    assert effect is not None and effect.significant and effect.low > 0
    assert effect.treated_successes == 70 and effect.holdout_successes == 10
    page = client.get(f"/outreach/campaigns/{campaign.pk}/").content.decode()
    assert "推送组明显高于对照组" in page and "与对照组无显著差异" not in page
    assert f"{effect.difference * 100:+.1f}" in page


def test_a_campaign_without_holdout_has_no_effect_to_report(region: Any, staff: Any) -> None:
    from kepu.outreach.effects import campaign_effect

    campaign = _campaign(staff["camp"])
    assert campaign_effect(campaign) is None


# --- the console ---------------------------------------------------------------------------------


def test_the_console_creates_approves_and_runs_a_campaign(
    region: Any, staff: Any, django_capture_on_commit_callbacks: Any,
) -> None:
    from kepu.core.models import OrgUnit
    from kepu.outreach.campaign_models import Campaign

    make_citizens(5)
    segment, resource = _segment(), _resource()
    author, other = Client(), Client()
    author.force_login(staff["camp"])
    other.force_login(staff["camp2"])
    form = author.get("/outreach/campaigns/new/")
    assert form.status_code == 200 and "所有人" in form.content.decode()
    response = author.post("/outreach/campaigns/new/", {
        "name": "秋季防诈", "org_unit": OrgUnit.objects.get(code=CITY).pk, "segment": segment.pk,
        "resources": [resource.pk], "channel": "inbox", "title": "防诈提醒", "message": "看一看。",
        "send_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"), "rate_per_minute": 0, "holdout_percent": 10,
        "measure": "completion", "dimension": "",
    })
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/outreach/campaigns/{campaign.pk}/"
    detail = f"/outreach/campaigns/{campaign.pk}/"
    assert 'data-testid="campaign-approve"' not in author.get(detail).content.decode()
    assert author.post(f"{detail}approve/").status_code == 403
    assert 'data-testid="campaign-approve"' in other.get(detail).content.decode()
    other.post(f"{detail}approve/")
    with django_capture_on_commit_callbacks(execute=True):
        author.post(f"{detail}start/")
    campaign.refresh_from_db()
    assert campaign.status == "done" and campaign.approved_by == staff["camp2"]
    page = author.get(detail).content.decode()
    assert "已完成" in page and "秋季防诈" in author.get("/outreach/campaigns/").content.decode()


def test_the_console_shows_a_district_only_its_own_campaigns(region: Any, staff: Any) -> None:
    city = _campaign(staff["camp"])
    wujin = _campaign(staff["wujin"], unit=WUJIN)
    client = Client()
    client.force_login(staff["wujin"])
    listing = client.get("/outreach/campaigns/").content.decode()
    assert f"/outreach/campaigns/{wujin.pk}/" in listing and f"/outreach/campaigns/{city.pk}/" not in listing
    assert client.get(f"/outreach/campaigns/{city.pk}/").status_code == 404
    assert client.post(f"/outreach/campaigns/{city.pk}/cancel/").status_code == 404
    city.refresh_from_db()
    assert city.status == "draft"


def test_the_quiz_accuracy_effect_counts_each_arms_answers_in_the_targeted_dimension(
    region: Any, staff: Any, monkeypatch: Any, django_capture_on_commit_callbacks: Any,
) -> None:
    from kepu.outreach.campaign_models import Delivery
    from kepu.outreach.effects import campaign_effect
    from kepu.quiz import selectors

    make_citizens(40)
    campaign = _run(_campaign(staff["camp"], holdout=0.5, seed=5, measure="quiz_accuracy", dimension="method"),
                    staff, django_capture_on_commit_callbacks)
    held = set(Delivery.objects.filter(campaign=campaign, holdout=True).values_list("citizen_id", flat=True))
    calls = []

    def accuracy(citizen_ids: Any, dimension: str | None = None, since: Any = None) -> tuple[int, int]:
        ids = set(citizen_ids)
        calls.append((ids, dimension, since))
        return (10, 100) if ids == held else (30, 100)

    monkeypatch.setattr(selectors, "accuracy", accuracy)
    effect = campaign_effect(campaign)
    assert effect is not None and (effect.treated_successes, effect.holdout_successes) == (30, 10)
    assert effect.difference == pytest.approx(0.2) and effect.significant
    assert {c[1] for c in calls} == {"method"} and {c[2] for c in calls} == {campaign.started_at}
    assert sorted(len(c[0]) for c in calls) == sorted([len(held), 40 - len(held)])


# --- the API -------------------------------------------------------------------------------------


def test_the_api_lists_reads_and_steps_campaigns_with_the_consoles_rules(region: Any, staff: Any) -> None:
    city = _campaign(staff["camp"])
    wujin = _campaign(staff["wujin"], unit=WUJIN)
    author, other, district, editor = Client(), Client(), Client(), Client()
    for client, who in ((author, "camp"), (other, "camp2"), (district, "wujin"), (editor, "editor")):
        client.force_login(staff[who])

    listing = author.get("/api/outreach/campaigns").json()
    assert listing["count"] == 2 and {c["id"] for c in listing["items"]} == {city.pk, wujin.pk}
    assert [c["id"] for c in district.get("/api/outreach/campaigns").json()["items"]] == [wujin.pk]
    assert district.get(f"/api/outreach/campaigns/{city.pk}").status_code == 404
    assert editor.get("/api/outreach/campaigns").status_code == 403

    own = author.post(f"/api/outreach/campaigns/{city.pk}/approve")
    assert own.status_code == 403 and own["Content-Type"] == "application/problem+json"
    approved = other.post(f"/api/outreach/campaigns/{city.pk}/approve")
    assert approved.status_code == 200
    body = approved.json()
    assert body["status"] == "approved" and body["approved_by"] == "camp2" and body["effect"] is None
    again = other.post(f"/api/outreach/campaigns/{city.pk}/approve")
    assert again.status_code == 422
    city.refresh_from_db()
    assert city.status == "approved"


def test_a_citizens_data_download_holds_their_push_messages(
    region: Any, staff: Any, client: Client, django_capture_on_commit_callbacks: Any,
) -> None:
    [alice] = make_citizens(1)
    _run(_campaign(staff["camp"]), staff, django_capture_on_commit_callbacks)
    _login(client, alice)
    data = json.loads(client.get("/me/data/download/").content)
    [message] = data["push_messages"]
    assert message["title"] == "健康提醒" and message["status"] == "sent" and message["channel"] == "inbox"
