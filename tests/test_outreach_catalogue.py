"""The content catalogue (issue 9, point 1): editorial workflow draft → reviewed → published → archived
with four eyes (never the author) in service, page and API; district editors keep to their district;
every step audited; bodies sanitised (stored XSS); the content importer (all or nothing, errors naming
file, entry and field) and the starter set."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from conftest import PASSWORD

pytestmark = pytest.mark.django_db

FIXTURE = Path(__file__).parent / "data" / "outreach"
STARTER = Path(__file__).parent.parent / "data" / "outreach"
WUJIN, XINBEI = "320412", "320411"
XSS = ('<p>安全<script>alert(1)</script><img src=x onerror="alert(2)">'
       '<a href="javascript:alert(3)">点我</a><a href="https://example.org/" onclick="alert(4)">来源</a></p>')


@pytest.fixture
def editors(region: Any, make_user: Any, settings: Any) -> dict[str, Any]:
    from kepu.outreach.models import Topic

    Topic.objects.create(code="health", name_zh="健康生活", name_en="Healthy living")
    return {
        "editor": make_user("editor", ("editor", "320400", None)),
        "editor2": make_user("editor2", ("editor", "320400", None)),
        "wujin": make_user("wujin_editor", ("editor", WUJIN, None)),
        "office": make_user("office", ("office_admin", "320400", None)),
        "viewer": make_user("viewer", ("viewer", "320400", None)),
        "campaigner": make_user("campaigner", ("campaigner", "320400", None)),
    }


def login(user: Any) -> Client:
    c = Client()
    assert c.login(username=user.username, password=PASSWORD)
    return c


def draft(actor: Any, code: str = "hpv", **extra: Any) -> Any:
    from kepu.outreach import services

    data = {"code": code, "kind": "article", "title_zh": "接种HPV疫苗", "summary_zh": "摘要", "body_zh": "<p>正文</p>",
            "topics": ["health"], "dimensions": ["knowledge"], "key_groups": ["youth"], **extra}
    return services.resource_create(actor=actor, data=data)


def actions(resource: Any) -> list[str]:
    from kepu.core.models import AuditEntry

    return list(AuditEntry.objects.filter(object_type="outreach.resource", object_id=str(resource.pk))
                .order_by("pk").values_list("action", flat=True))


# -- workflow ---------------------------------------------------------------------------------------------


def test_workflow_draft_reviewed_published_archived_with_four_eyes_and_audit(editors: Any) -> None:
    from kepu.core.errors import PermissionDenied
    from kepu.outreach import services

    r = draft(editors["editor"])
    assert r.status == "draft" and r.author == editors["editor"]
    with pytest.raises(PermissionDenied):
        services.resource_review(actor=editors["editor"], resource=r)
    r.refresh_from_db()
    assert r.status == "draft" and r.reviewer is None
    r = services.resource_review(actor=editors["editor2"], resource=r, comment="事实核对无误")
    assert (r.status, r.reviewer) == ("reviewed", editors["editor2"])
    r = services.resource_publish(actor=editors["editor"], resource=r)
    assert r.status == "published" and r.published_at is not None
    r = services.resource_archive(actor=editors["editor2"], resource=r)
    assert r.status == "archived"
    assert actions(r) == ["resource.create", "resource.review", "resource.publish", "resource.archive"]


def test_publish_needs_a_review_first(editors: Any) -> None:
    from kepu.core.errors import InputError
    from kepu.outreach import services

    r = draft(editors["editor"])
    with pytest.raises(InputError):
        services.resource_publish(actor=editors["editor2"], resource=r)
    r.refresh_from_db()
    assert r.status == "draft"


def test_editing_a_published_piece_sends_it_back_to_review_and_its_editor_cannot_review_it(editors: Any) -> None:
    from kepu.core.errors import PermissionDenied
    from kepu.outreach import services

    r = draft(editors["editor"])
    services.resource_review(actor=editors["editor2"], resource=r)
    services.resource_publish(actor=editors["editor2"], resource=r)
    r = services.resource_update(actor=editors["editor2"], resource=r,
                                 data={"title_zh": "接种HPV疫苗（修订）", "topics": ["health"]})
    assert (r.status, r.author, r.reviewer) == ("draft", editors["editor2"], None)
    with pytest.raises(PermissionDenied):
        services.resource_review(actor=editors["editor2"], resource=r)
    services.resource_review(actor=editors["editor"], resource=r)
    r.refresh_from_db()
    assert r.status == "reviewed"


def test_own_review_refused_on_the_page(editors: Any) -> None:
    r = draft(editors["editor"])
    page = login(editors["editor"]).get(f"/outreach/resources/{r.code}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="do-review"' not in html and 'data-testid="own-note"' in html
    refused = login(editors["editor"]).post(f"/outreach/resources/{r.code}/review/", {"comment": "自己审"})
    assert refused.status_code == 403
    r.refresh_from_db()
    assert r.status == "draft" and actions(r) == ["resource.create"]
    done = login(editors["editor2"]).post(f"/outreach/resources/{r.code}/review/", {"comment": "可以"})
    assert done.status_code == 302
    r.refresh_from_db()
    assert r.status == "reviewed"


def test_own_review_refused_in_the_api(editors: Any, api_client: Any) -> None:
    created = api_client(editors["editor"]).post(
        "/api/outreach/resources", json.dumps({"code": "api-1", "title_zh": "用电安全", "topics": ["health"],
                                               "body_zh": XSS}), content_type="application/json")
    assert created.status_code == 201, created.content
    assert "<script" not in created.json()["body_zh"] and "onerror" not in created.json()["body_zh"]
    own = api_client(editors["editor"]).post("/api/outreach/resources/api-1/review", "{}",
                                             content_type="application/json")
    assert own.status_code == 403 and own["Content-Type"] == "application/problem+json"
    other = api_client(editors["editor2"]).post("/api/outreach/resources/api-1/review", "{}",
                                                content_type="application/json")
    assert other.status_code == 200 and other.json()["status"] == "reviewed"
    assert other.json()["reviewer"] == "editor2"


def test_district_editor_edits_only_their_district(editors: Any) -> None:
    from kepu.core.errors import PermissionDenied
    from kepu.outreach import services

    wujin = editors["wujin"]
    city_piece = draft(editors["editor"], code="city")
    xinbei_piece = draft(editors["editor"], code="xinbei", regions=[XINBEI])
    with pytest.raises(PermissionDenied):
        services.resource_update(actor=wujin, resource=city_piece, data={"title_zh": "改", "topics": []})
    with pytest.raises(PermissionDenied):
        draft(wujin, code="wj-city")  # whole city: not theirs
    with pytest.raises(PermissionDenied):
        services.resource_review(actor=wujin, resource=city_piece)
    city_piece.refresh_from_db()
    assert city_piece.title_zh == "接种HPV疫苗" and city_piece.status == "draft"
    own = draft(wujin, code="wj", regions=[WUJIN])
    assert [u.code for u in own.regions.all()] == [WUJIN]
    # the page: the other district's piece is not even listed; the city piece is read-only
    c = login(wujin)
    assert c.get(f"/outreach/resources/{xinbei_piece.code}/").status_code == 404
    assert c.get(f"/outreach/resources/{city_piece.code}/edit/").status_code == 403
    assert c.post(f"/outreach/resources/{city_piece.code}/edit/", {"title_zh": "改"}).status_code == 403
    listing = c.get("/outreach/resources/").content.decode()
    assert "/outreach/resources/wj/" in listing and "/outreach/resources/xinbei/" not in listing


def test_staff_without_editor_role_and_citizens_are_refused(editors: Any) -> None:
    for who in ("viewer", "campaigner"):
        c = login(editors[who])
        assert c.get("/outreach/resources/").status_code == 403
        assert c.post("/outreach/resources/new/", {"code": "x", "title_zh": "x", "kind": "article"}).status_code == 403
    from kepu.outreach.models import Resource

    assert not Resource.objects.filter(code="x").exists()
    assert Client().get("/outreach/resources/").status_code == 302  # to the login page


def test_create_and_edit_on_the_page(editors: Any) -> None:
    from kepu.outreach.models import Resource

    c = login(editors["editor"])
    form = c.get("/outreach/resources/new/")
    assert form.status_code == 200
    saved = c.post("/outreach/resources/new/", {
        "code": "fire", "kind": "video", "title_zh": "家庭防火", "body_zh": "<p>灭火器</p>", "topics": ["health"],
        "dimensions": ["application"], "benchmarks": "24，17", "key_groups": ["elderly"], "age_bands": ["70+"],
        "regions": [WUJIN]})
    assert saved.status_code == 302, saved.content.decode()[:2000]
    r = Resource.objects.get(code="fire")
    assert (r.kind, r.benchmarks, r.key_groups, r.age_bands) == ("video", [17, 24], ["elderly"], ["70+"])
    assert [u.code for u in r.regions.all()] == [WUJIN]
    bad = c.post("/outreach/resources/fire/edit/", {"kind": "video", "title_zh": "家庭防火", "benchmarks": "99"})
    assert bad.status_code == 200 and "1–26" in bad.content.decode()
    r.refresh_from_db()
    assert r.benchmarks == [17, 24]


def test_stored_xss_is_cleaned_on_save_and_not_on_the_review_page(editors: Any) -> None:
    c = login(editors["editor"])
    c.post("/outreach/resources/new/", {"code": "xss", "kind": "article", "title_zh": "<script>alert(5)</script>标题",
                                        "body_zh": XSS, "summary_zh": '<img src=x onerror="alert(6)">'})
    from kepu.outreach.models import Resource

    r = Resource.objects.get(code="xss")
    for bad in ("<script", "onerror", "javascript:", "onclick"):
        assert bad not in r.body_zh
    assert 'href="https://example.org/"' in r.body_zh and "安全" in r.body_zh
    html = login(editors["editor2"]).get("/outreach/resources/xss/").content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html and 'onerror="alert' not in html
    assert "&lt;script&gt;alert(5)" in html  # the title is text, shown escaped
    assert "安全" in html


def test_review_queue_lists_others_drafts_only(editors: Any) -> None:
    from kepu.outreach import services

    mine = draft(editors["editor"], code="mine")
    theirs = draft(editors["editor2"], code="theirs")
    reviewed = draft(editors["editor2"], code="ready")
    services.resource_review(actor=editors["editor"], resource=reviewed)
    counts = login(editors["editor"]).get("/outreach/resources/").context["counts"]
    assert counts == {"draft": 2, "reviewed": 1, "published": 0, "archived": 0}
    html = login(editors["editor"]).get("/outreach/resources/review/").content.decode()
    assert f"/outreach/resources/{theirs.code}/" in html and f"/outreach/resources/{reviewed.code}/" in html
    assert f"/outreach/resources/{mine.code}/" not in html


def test_audit_log_shows_catalogue_actions_in_words(editors: Any) -> None:
    from kepu.core.models import AuditEntry
    from kepu.web.audit import action_label

    r = draft(editors["editor"])
    entry = AuditEntry.objects.get(object_type="outreach.resource", object_id=str(r.pk))
    assert action_label(entry) == "新建科普内容"
    html = login(editors["editor2"]).get(f"/outreach/resources/{r.code}/").content.decode()
    assert "新建科普内容" in html and "resource.create" not in html


# -- content import ---------------------------------------------------------------------------------------


def test_content_import_is_idempotent_and_publishes_on_request(region: Any) -> None:
    from kepu.outreach.content_import import content_import
    from kepu.outreach.models import Resource, Topic

    counts = content_import(path=FIXTURE / "content", publish=True)
    assert counts == {"topics": 4, "created": 5, "updated": 0, "unchanged": 0}
    assert Topic.objects.get(code="chronic").parent.code == "health"
    assert set(Resource.objects.values_list("status", flat=True)) == {"published"}
    r = Resource.objects.get(code="t-hypertension")
    assert r.body_zh.startswith("<p>高血压是常见的慢性病。") and r.body_zh.count("<p>") == 2
    assert content_import(path=FIXTURE / "content") == {"topics": 0, "created": 0, "updated": 0, "unchanged": 5}


def test_content_import_is_all_or_nothing_and_names_file_entry_and_field(region: Any, tmp_path: Path) -> None:
    from kepu.core.errors import InputError
    from kepu.outreach.content_import import content_import
    from kepu.outreach.models import Resource, Topic

    shutil.copy(FIXTURE / "topics.yaml", tmp_path / "topics.yaml")
    (tmp_path / "content").mkdir()
    shutil.copy(FIXTURE / "content" / "health.yaml", tmp_path / "content" / "a.yaml")
    (tmp_path / "content" / "b.yaml").write_text(
        "- {code: ok-one, title_zh: 好, topics: [health]}\n"
        "- {code: bad-one, title_zh: 坏, topics: [nope], dimensions: [wisdom], colour: red}\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        content_import(path=tmp_path / "content")
    errors = exc.value.errors
    assert any("b.yaml 第 2 项（bad-one）" in e and "topics" in e and "nope" in e for e in errors)
    assert any("b.yaml 第 2 项（bad-one）" in e and "dimensions" in e for e in errors)
    assert any("colour" in e for e in errors)
    assert Resource.objects.count() == 0 and Topic.objects.count() == 0


def test_content_import_command(region: Any, tmp_path: Path) -> None:
    from kepu.outreach.models import Resource

    call_command("outreach", "content", "import", str(FIXTURE / "content"), "--publish")
    assert Resource.objects.filter(status="published").count() == 5
    (tmp_path / "topics.yaml").write_text("- {code: x, name_zh: 甲, name_en: X, parent: missing}\n", encoding="utf-8")
    with pytest.raises(CommandError, match="missing"):
        call_command("outreach", "content", "import", str(tmp_path))


def test_starter_content_has_80_original_pieces_across_the_plans_topics(region: Any) -> None:
    from kepu.outreach.content_import import content_import
    from kepu.outreach.models import Resource, Topic

    content_import(path=STARTER / "content", publish=True)
    assert Resource.objects.filter(status="published").count() >= 80
    top = Topic.objects.filter(parent__isnull=True)
    covered = {t.code for t in top if Resource.objects.filter(topics__in=[t, *t.children.all()]).exists()}
    assert covered == {t.code for t in top}
    assert not Resource.objects.exclude(licence="CC BY 4.0").exists()


@pytest.mark.parametrize("body", [
    {"code": "n1", "title_zh": "标题\x00"},
    {"code": "n2", "title_zh": "标题", "topics": ["health\x00"]},
    {"code": "n3", "title_zh": "标题", "regions": ["3204\x0012"]},
    {"code": "n4", "title_zh": "标题", "topics": "health"},
    {"code": "n5", "title_zh": "标题", "benchmarks": [0]},
    {"code": "n6", "title_zh": "标题", "dimensions": ["wisdom"]},
    {"code": "n7", "title_zh": "标题", "url": "javascript:alert(1)"},
    {"code": "../x", "title_zh": "标题"},
    {"code": "n8", "title_zh": "x" * 201},
    {"code": "n9", "title_zh": ""},
    {"code": "n10", "title_zh": "标题", "kind": "podcast"},
])
def test_api_refuses_bad_resources_without_a_server_error(editors: Any, api_client: Any, body: dict[str, Any]) -> None:
    from kepu.outreach.models import Resource

    got = api_client(editors["editor"]).post("/api/outreach/resources", json.dumps(body),
                                             content_type="application/json")
    assert got.status_code == 422, got.content
    assert got["Content-Type"] == "application/problem+json"
    assert Resource.objects.count() == 0


def test_api_lists_and_edits_within_scope(editors: Any, api_client: Any) -> None:
    draft(editors["editor"], code="city")
    draft(editors["editor"], code="xb", regions=[XINBEI])
    wujin = api_client(editors["wujin"])
    assert [r["code"] for r in wujin.get("/api/outreach/resources").json()["items"]] == ["city"]
    assert wujin.get("/api/outreach/resources/xb").status_code == 404
    put = wujin.put("/api/outreach/resources/city", json.dumps({"title_zh": "改"}), content_type="application/json")
    assert put.status_code == 403
    viewer = api_client(editors["viewer"])
    assert viewer.get("/api/outreach/resources").status_code == 403
    city = api_client(editors["editor2"])
    edited = city.put("/api/outreach/resources/city", json.dumps({"title_zh": "改过的标题", "topics": ["health"]}),
                      content_type="application/json")
    assert edited.status_code == 200 and edited.json()["title_zh"] == "改过的标题"
    assert edited.json()["author"] == "editor2"


def test_a_body_written_around_the_services_is_cleaned_again_when_shown(editors: Any) -> None:
    from kepu.outreach import services
    from kepu.outreach.models import Resource

    r = draft(editors["editor"], code="raw")
    services.resource_review(actor=editors["editor2"], resource=r)
    services.resource_publish(actor=editors["editor2"], resource=r)
    Resource.objects.filter(pk=r.pk).update(body_zh=XSS, body_en=XSS)  # e.g. a row restored from an old backup
    for client, url in ((login(editors["editor2"]), "/outreach/resources/raw/"), (Client(), "/me/r/raw/")):
        html = client.get(url).content.decode()
        assert "安全" in html and "<script>alert" not in html and 'onerror="alert' not in html
        assert "javascript:alert" not in html
