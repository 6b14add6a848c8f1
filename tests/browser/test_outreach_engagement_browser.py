"""The reading page records a completed read through the static engagement script (no inline script,
CSP), after the citizen reached the end of the piece and spent a little time on it (issue 9 point 7)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.portal import PHONE, citizen_login, portal_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_reading_a_piece_to_the_end_records_view_and_complete(region: Any, browser: Any, live_server: Any) -> None:
    from kepu.outreach.engagement_models import Interaction

    world = portal_world(contest=False, inbox=False)
    citizen = world["citizen"]
    ctx = browser.new_context(**PHONE)
    try:
        page = ctx.new_page()
        page.clock.install()
        citizen_login(page, live_server.url, "citizen")
        page.goto(f"{live_server.url}/me/r/overnight-water/")
        # the page view is recorded by the server; nothing is "complete" yet
        rows = Interaction.objects.filter(citizen=citizen, resource__code="overnight-water")
        assert list(rows.values_list("kind", flat=True)) == ["view"]
        with page.expect_response(lambda r: r.url.endswith("/api/outreach/events")
                                  and r.request.method == "POST") as answer:
            page.locator("[data-kepu-resource] > :last-child").scroll_into_view_if_needed()
            page.clock.fast_forward(9000)
        assert answer.value.status == 201
        assert answer.value.request.post_data_json == {"kind": "complete", "resource": "overnight-water"}
        assert sorted(rows.values_list("kind", flat=True)) == ["complete", "view"]
        row = rows.get(kind="complete")
        assert (row.pseudonym, row.district.code, row.key_groups) == (citizen.pseudonym, "320412", ["farmers"])
    finally:
        ctx.close()
