"""Big screens (三屏融合): the public kiosk page needs no login and shows only published pieces for its
region with a server-made QR code; editors configure screens inside their own org unit, audited."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def content(region: Any) -> dict[str, Any]:
    from kepu.core.models import OrgUnit
    from kepu.outreach.models import Resource, Topic

    health = Topic.objects.create(code="health", name_zh="健康", name_en="Health")
    farm = Topic.objects.create(code="farming", name_zh="农业", name_en="Farming")

    def piece(code: str, status: str = "published", topic: Any = health, region_code: str | None = None) -> Any:
        r = Resource.objects.create(code=code, title_zh=f"标题{code}", title_en=f"Title {code}",
                                    summary_zh=f"摘要{code}", status=status)
        r.topics.set([topic])
        if region_code:
            r.regions.set([OrgUnit.objects.get(code=region_code)])
        return r

    return {
        "health": health, "farming": farm,
        "city": piece("hand-wash"),
        "wujin": piece("wujin-only", region_code="320412"),
        "xinbei": piece("xinbei-only", region_code="320411"),
        "draft": piece("draft-piece", status="draft"),
        "soil": piece("soil-test", topic=farm),
        "archived": piece("old-piece", status="archived"),
    }


@pytest.fixture
def staff(make_user: Any) -> dict[str, Any]:
    from django.contrib.auth.models import User

    return {
        "editor": make_user("editor", ("editor", "320400", None)),
        "wujin_editor": make_user("wjeditor", ("editor", "320412", None)),
        "reporter": make_user("wujin", ("district_reporter", "320412", None)),
        "citizen": User.objects.create_user("citizen1", password="x" * 12),
    }


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _kiosk(user: Any, unit: str = "320412", **kw: Any) -> Any:
    from kepu.core.models import OrgUnit
    from kepu.outreach.kiosk import KioskInput, kiosk_save

    data = {"code": "wj-hall", "name": "武进社区大屏", "org_unit": OrgUnit.objects.get(code=unit), **kw}
    return kiosk_save(user=user, data=KioskInput(**data))


def test_items_are_published_and_for_the_screens_region(content: dict[str, Any], staff: dict[str, Any]) -> None:
    from kepu.outreach.kiosk import kiosk_items

    kiosk = _kiosk(staff["editor"], topics=(content["health"],), resources=(content["soil"], content["draft"]))
    codes = [r.code for r in kiosk_items(kiosk)]
    # Chosen first, then the topic's pieces; the draft, the archived piece and Xinbei's piece never show
    assert codes[0] == "soil-test"
    assert set(codes) == {"soil-test", "hand-wash", "wujin-only"}
    assert len(codes) == len(set(codes))


def test_public_page_without_login(content: dict[str, Any], staff: dict[str, Any]) -> None:
    from kepu.outreach.kiosk import qr_svg

    _kiosk(staff["editor"], topics=(content["health"],), interval=15)
    response = Client().get("/kiosk/wj-hall/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "标题hand-wash" in html and "标题wujin-only" in html and "标题xinbei-only" not in html
    assert 'data-interval="15"' in html
    # The QR code is inline SVG made on the server, pointing at the piece's phone page on this host
    assert qr_svg("http://testserver/me/r/hand-wash/") in html
    assert "<img" not in html and not re.search(r"(src|href)=\"https?://", html)
    # Static script only; no inline script or style (the CSP forbids them)
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/outreach/kiosk.js" defer>']
    assert "style=" not in html and "<style" not in html
    assert "script-src 'self'" in response["Content-Security-Policy"]
    # No contest configured: no leaderboard panel
    assert "kiosk-board" not in html
    # The slides fragment the script reloads carries the same slides
    fragment = Client().get("/kiosk/wj-hall/slides/")
    assert fragment.status_code == 200 and fragment["Cache-Control"] == "no-store"
    assert fragment.content.decode().count('data-testid="kiosk-slide"') == 2


def test_inactive_or_unknown_screen_is_404(content: dict[str, Any], staff: dict[str, Any]) -> None:
    _kiosk(staff["editor"], topics=(content["health"],), active=False)
    assert Client().get("/kiosk/wj-hall/").status_code == 404
    assert Client().get("/kiosk/nowhere/").status_code == 404


def test_leaderboard_only_when_the_quiz_api_serves_it(content: dict[str, Any], staff: dict[str, Any]) -> None:
    from django.urls import Resolver404, resolve

    _kiosk(staff["editor"], topics=(content["health"],), contest_id=7)
    html = Client().get("/kiosk/wj-hall/").content.decode()
    try:
        resolve("/api/quiz/contests/7/leaderboard")
    except Resolver404:
        assert "kiosk-board" not in html
    else:
        assert 'data-leaderboard-url="/api/quiz/contests/7/leaderboard"' in html and 'id="kiosk-board"' in html


def test_editor_sets_up_a_screen_audited(content: dict[str, Any], staff: dict[str, Any]) -> None:
    from kepu.core.models import AuditEntry, OrgUnit
    from kepu.outreach.kiosk_models import Kiosk
    from kepu.web.audit import OBJECTS

    c = _client(staff["wujin_editor"])
    assert 'href="/outreach/kiosks/"' in c.get("/outreach/resources/").content.decode()  # from the catalogue
    assert c.get("/outreach/kiosks/").status_code == 200
    wujin = OrgUnit.objects.get(code="320412")
    page = c.get("/outreach/kiosks/new/").content.decode()
    form = re.search(r'<select name="org_unit".*?</select>', page, re.S)
    assert form is not None
    assert f'value="{wujin.pk}"' in form.group(0)
    xinbei = OrgUnit.objects.get(code="320411")
    assert f'value="{xinbei.pk}"' not in form.group(0)  # outside the editor's district
    post = {"code": "wj-hall", "name": "湖塘社区大屏", "org_unit": wujin.pk, "venue": "湖塘社区服务中心",
            "topics": [content["health"].pk], "interval": 20, "active": "on"}
    response = c.post("/outreach/kiosks/new/", post)
    assert response.status_code == 302 and response["Location"] == "/outreach/kiosks/wj-hall/"
    kiosk = Kiosk.objects.get(code="wj-hall")
    assert kiosk.org_unit == wujin and kiosk.created_by == staff["wujin_editor"]
    entry = AuditEntry.objects.get(action="kiosk.create")
    assert entry.actor == staff["wujin_editor"] and entry.changes["topics"] == [None, ["health"]]
    assert str(OBJECTS[entry.object_type]) == "大屏"  # the audit log names the object in words

    # A change is audited old → new
    response = c.post("/outreach/kiosks/wj-hall/", {**post, "interval": 30})
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="kiosk.update")
    assert entry.changes == {"interval": [20, 30]}

    # Putting it in Xinbei is refused by the form; nothing changes
    response = c.post("/outreach/kiosks/wj-hall/", {**post, "org_unit": xinbei.pk})
    assert response.status_code == 200
    kiosk.refresh_from_db()
    assert kiosk.org_unit == wujin and kiosk.interval == 30


def test_bad_settings_are_refused(content: dict[str, Any], staff: dict[str, Any]) -> None:
    from kepu.core.errors import InputError
    from kepu.outreach.kiosk_models import Kiosk

    with pytest.raises(InputError, match="至少选择"):
        _kiosk(staff["editor"])
    with pytest.raises(InputError, match="轮播间隔"):
        _kiosk(staff["editor"], topics=(content["health"],), interval=2)
    _kiosk(staff["editor"], topics=(content["health"],))
    with pytest.raises(InputError, match="已被其他大屏使用"):
        _kiosk(staff["editor"], topics=(content["health"],))
    assert Kiosk.objects.count() == 1
    c = _client(staff["editor"])
    response = c.post("/outreach/kiosks/new/", {"code": "bad code!", "name": "", "interval": 3})
    assert response.status_code == 200 and Kiosk.objects.count() == 1


def test_only_editors_of_the_unit(content: dict[str, Any], staff: dict[str, Any]) -> None:
    from kepu.core.errors import PermissionDenied
    from kepu.core.models import AuditEntry
    from kepu.outreach.kiosk_models import Kiosk

    kiosk = _kiosk(staff["editor"], unit="320411", topics=(content["health"],), code="xb-hall")
    # Other roles and citizens (no role) are refused the console; anonymous visitors must log in
    for who in ("reporter", "citizen"):
        assert _client(staff[who]).get("/outreach/kiosks/").status_code == 403
        assert _client(staff[who]).post("/outreach/kiosks/new/", {}).status_code == 403
    assert Client().get("/outreach/kiosks/").status_code == 302
    # A Wujin editor neither sees nor changes Xinbei's screen
    c = _client(staff["wujin_editor"])
    assert "xb-hall" not in c.get("/outreach/kiosks/").content.decode()
    assert c.get("/outreach/kiosks/xb-hall/").status_code == 404
    assert c.post("/outreach/kiosks/xb-hall/", {"name": "x"}).status_code == 404
    with pytest.raises(PermissionDenied):
        _kiosk(staff["wujin_editor"], unit="320411", topics=(content["health"],), code="xb-2")
    kiosk.refresh_from_db()
    assert kiosk.name == "武进社区大屏" and Kiosk.objects.count() == 1
    assert AuditEntry.objects.filter(action__startswith="kiosk.").count() == 1


def test_subtopics_and_the_demo_screens(content: dict[str, Any], staff: dict[str, Any]) -> None:
    from kepu.core.models import AuditEntry
    from kepu.outreach.kiosk import kiosk_demo, kiosk_items
    from kepu.outreach.kiosk_models import Kiosk
    from kepu.outreach.models import Resource, Topic

    flu = Topic.objects.create(code="infectious", name_zh="传染病防控", name_en="Infectious", parent=content["health"])
    r = Resource.objects.create(code="flu-jab", title_zh="流感疫苗", status="published")
    r.topics.set([flu])
    # The demo editor sets up the community screen (the venue screen's topics are not in this catalogue)
    assert "/kiosk/tianning-diaozhuang/" in kiosk_demo(username="editor")
    kiosk = Kiosk.objects.get()
    assert kiosk.org_unit.code == "320402001" and kiosk.created_by == staff["editor"]
    # A topic brings its subtopics' pieces; Wujin's piece does not show in Tianning
    assert {p.code for p in kiosk_items(kiosk)} == {"hand-wash", "flu-jab"}
    # Run again: nothing new, nothing audited twice
    kiosk_demo(username="editor")
    assert Kiosk.objects.count() == 1 and AuditEntry.objects.filter(action__startswith="kiosk.").count() == 1
