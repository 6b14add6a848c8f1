# ruff: noqa: F811  (pytest fixtures are imported from tests/test_rumours_fixtures.py and named as arguments)
"""Rumour intake (issue 11 point 3 and "Bad input and abuse"): sanitised text, duplicates counted on
arrival, near-duplicate floods absorbed, clustering and matching on arrival by the task, editors'
entry scoped to their units."""

from __future__ import annotations

from typing import Any

import pytest

from kepu.core.errors import InputError, PermissionDenied
from tests.test_rumours_fixtures import citizen_of, full_debunk, rumour_people, unit  # noqa: F401

pytestmark = pytest.mark.django_db

CLAIM = "紧急通知！喝隔夜水会致癌，赶紧转给家人！"


def test_html_and_script_are_stripped_and_zero_width_characters_dropped(region: Any,
                                                                       django_capture_on_commit_callbacks: Any) -> None:
    from kepu.rumours import services
    from kepu.rumours.models import Claim

    # Given a forwarded text with markup, a script and zero-width characters between the words
    raw = "<p>喝<b>隔夜水</b>\u200b会\u200d致\ufeff癌</p><script>alert('x')</script><img src=x onerror=alert(1)>"
    # When it is submitted from the public form
    with django_capture_on_commit_callbacks(execute=True):
        intake = services.claim_submit(text=raw, source="public_form", org_unit=unit("320412"), client="k1")
    # Then only the words are stored: no tag, no script body, no zero-width character
    claim = Claim.objects.get(pk=intake.claim.pk)
    assert claim.text == "喝隔夜水会致癌"
    assert "<" not in claim.text and "alert" not in claim.text
    assert claim.district.code == "320412" and claim.cluster_key == f"c{claim.pk}"
    assert claim.processed is True  # the task ran (immediate backend)


def test_only_markup_or_too_long_text_is_refused_with_a_clear_error(region: Any) -> None:
    from kepu.rumours import services
    from kepu.rumours.models import Claim

    with pytest.raises(InputError, match="必填"):
        services.claim_submit(text="<b></b>\u200b\u200b", source="public_form", org_unit=unit("320412"))
    with pytest.raises(InputError, match="最多 2000 个字，现在有 2001 个字"):
        services.claim_submit(text="谣" * 2001, source="public_form", org_unit=unit("320412"))
    with pytest.raises(InputError, match="请选择具体的辖市"):
        services.claim_submit(text="喝隔夜水会致癌", source="public_form", org_unit=unit("320400"))
    assert Claim.objects.count() == 0


def test_the_same_text_is_counted_on_the_existing_claim_and_a_flood_from_one_sender_is_absorbed(
        region: Any, citizen_of: Any) -> None:
    from kepu.rumours import services
    from kepu.rumours.models import Claim, ClaimReport

    wujin = unit("320412")
    # Given a claim from one client
    first = services.claim_submit(text=CLAIM, source="public_form", org_unit=wujin, client="client-a")
    # When the same client sends the same text (with different punctuation/width) a hundred times
    for i in range(100):
        again = services.claim_submit(text=CLAIM + ("！" if i % 2 else " "), source="public_form", org_unit=wujin,
                                      client="client-a")
        assert again.absorbed and not again.created
    # and two other senders send it once each
    services.claim_submit(text=CLAIM, source="public_form", org_unit=wujin, client="client-b")
    services.claim_submit(text=CLAIM, source="citizen", org_unit=wujin, citizen=citizen_of("xiaoli"))
    # Then there is one claim, counted three times (one per sender), the flood absorbed, not reported
    claim = Claim.objects.get()
    assert claim.pk == first.claim.pk
    assert claim.dup_count == 3
    assert claim.absorbed_count == 100
    assert ClaimReport.objects.count() == 3
    # And the same text in another district is a separate claim (district officers see their own)
    services.claim_submit(text=CLAIM, source="public_form", org_unit=unit("320411"), client="client-a")
    assert Claim.objects.count() == 2


def test_a_near_duplicate_joins_the_cluster_of_the_claim_it_resembles(region: Any,
                                                                      django_capture_on_commit_callbacks: Any) -> None:
    from kepu.rumours import services
    from kepu.rumours.models import Claim

    # Given a claim, the same claim forwarded with chain-letter padding elsewhere, and an unrelated claim
    with django_capture_on_commit_callbacks(execute=True):
        a = services.claim_submit(text="喝隔夜水会致癌", source="public_form", org_unit=unit("320412"), client="a")
        b = services.claim_submit(text="喝隔夜水会致癌！！赶紧转给家人", source="public_form",
                                  org_unit=unit("320411"), client="b")
        c = services.claim_submit(text="5G 基站辐射导致失眠", source="public_form", org_unit=unit("320412"), client="c")
    a_, b_, c_ = (Claim.objects.get(pk=x.claim.pk) for x in (a, b, c))
    # Then the near-duplicate takes the first claim's cluster (the real matcher's clustering); the other keeps its own
    assert b_.cluster_key == a_.cluster_key == f"c{a_.pk}"
    assert c_.cluster_key == f"c{c_.pk}"


def test_a_claim_matching_a_published_debunk_is_answered_on_arrival_and_its_citizen_told_once(
        rumour_people: dict[str, Any], citizen_of: Any, django_capture_on_commit_callbacks: Any) -> None:
    from kepu.outreach.campaign_models import InboxMessage
    from kepu.rumours import services
    from kepu.rumours.models import Claim, DebunkNotice

    with django_capture_on_commit_callbacks(execute=True):
        seed = services.claim_enter(actor=rumour_people["editor"], text="喝隔夜水会致癌", org_unit=unit("320412"))
        debunk = full_debunk(rumour_people, [seed.claim])
    citizen = citizen_of("xiaowang")
    # When a citizen reports the same claim (in other words the matcher recognises: here the same text)
    with django_capture_on_commit_callbacks(execute=True):
        intake = services.claim_submit(text="喝隔夜水会致癌", source="citizen", org_unit=unit("320411"),
                                       citizen=citizen, client="c1")
    claim = Claim.objects.get(pk=intake.claim.pk)
    # Then it is answered by the debunk at once, and the citizen gets one inbox message linking to it
    assert claim.debunk_id == debunk.pk and claim.status == "answered" and claim.confidence > 0.9
    messages = InboxMessage.objects.filter(citizen=citizen)
    assert [m.link for m in messages] == [f"/me/rumours/{debunk.pk}/"]
    # And reporting it again (another day's client key) does not send a second message
    with django_capture_on_commit_callbacks(execute=True):
        services.claim_submit(text="喝隔夜水会致癌", source="citizen", org_unit=unit("320411"), citizen=citizen,
                              client="c2")
    assert InboxMessage.objects.filter(citizen=citizen).count() == 1
    assert DebunkNotice.objects.filter(citizen=citizen, debunk=debunk).count() == 1


def test_a_claim_the_matcher_does_not_match_stays_open(rumour_people: dict[str, Any],
                                                       django_capture_on_commit_callbacks: Any) -> None:
    from kepu.rumours import services
    from kepu.rumours.models import Claim

    # Given a published debunk on 隔夜水, a new claim on the same topic that says something else (the real
    # matcher answers "no match": see tests/test_rumours_matching.py for its same-topic cases)
    with django_capture_on_commit_callbacks(execute=True):
        seed = services.claim_enter(actor=rumour_people["editor"], text="喝隔夜水会致癌", org_unit=unit("320412"))
        full_debunk(rumour_people, [seed.claim])
        other = services.claim_submit(text="隔夜的水养鱼要先晒一晒", source="public_form", org_unit=unit("320412"),
                                      client="x")
    claim = Claim.objects.get(pk=other.claim.pk)
    assert claim.debunk_id is None and claim.status == "new"


def test_editors_enter_claims_only_for_their_units(rumour_people: dict[str, Any]) -> None:
    from kepu.core.models import AuditEntry
    from kepu.rumours import services
    from kepu.rumours.models import Claim

    intake = services.claim_enter(actor=rumour_people["editor_wujin"], text="吃碘盐能防辐射", org_unit=unit("320412"),
                                  media="微信群转发", topic="health")
    assert intake.claim.source == "editor" and intake.claim.entered_by == rumour_people["editor_wujin"]
    assert AuditEntry.objects.filter(action="rumours.claim_submit", object_id=str(intake.claim.pk)).exists()
    with pytest.raises(PermissionDenied):
        services.claim_enter(actor=rumour_people["editor_wujin"], text="吃碘盐能防辐射", org_unit=unit("320411"))
    with pytest.raises(PermissionDenied):
        services.claim_enter(actor=rumour_people["viewer_wujin"], text="另一条", org_unit=unit("320412"))
    assert Claim.objects.count() == 1
    with pytest.raises(InputError, match="主题"):
        services.claim_enter(actor=rumour_people["editor"], text="第三条", org_unit=unit("320412"), topic="nonsense")
