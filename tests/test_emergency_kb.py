"""Emergency knowledge base (issue 11, point 1): hazards and guidance per phase and key group,
the starter-set loader (idempotent, all or nothing, every row error named), expert review (never
one's own), publishing only after review, audited edits of published guidance, and the abuse cases:
HTML/script and zero-width characters cleaned, oversized text refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from conftest import PASSWORD

pytestmark = pytest.mark.django_db

BODY = "发生洪水时，应迅速向高处转移，不要涉水行走，远离电线杆和变压器；被困时拨打 110 或 119，保存手机电量，等待救援。"
PREPARE = ("汛期前检查房屋排水，备好手电筒、饮用水、药品和救生衣，了解附近避险场所和转移路线"
           "，关注气象预警信息，家中老人和孩子提前安排好。")
ELDERLY = ("老年人行动不便，汛情来临时要提前在家人或社区工作人员帮助下转移到安全地带，不要留"
           "在低洼平房里，随身带好常用药和身份证件。")
WORKERS = ("高温天气户外作业应避开中午最热时段，勤补水并适量补充淡盐水，出现头晕、恶心、大量"
           "出汗等先兆中暑症状时立即到阴凉处休息，必要时拨打 120。")
SMALL_YAML = f"""
hazards:
  - code: flood
    name_zh: 洪涝
    name_en: Flood
    category: natural
    keywords: [暴雨, 内涝, 119]
    guidance:
      - phase: prepare
        group: all
        title_zh: 汛前准备
        body_zh: {PREPARE}
        title_en: Before the flood season
        body_en: Check drains and prepare torches, water, medicine and life jackets.
      - phase: during
        group: all
        title_zh: 洪水来了怎么办
        body_zh: {BODY}
        title_en: When the flood comes
        body_en: Move to high ground and do not wade through water.
      - phase: during
        group: elderly
        title_zh: 老年人转移
        body_zh: {ELDERLY}
  - code: heat
    name_zh: 高温
    name_en: Heat
    category: natural
    keywords: [高温, 中暑]
    guidance:
      - phase: during
        group: workers
        title_zh: 户外作业防中暑
        body_zh: {WORKERS}
"""


def load_small(actor: Any = None) -> Any:
    from kepu.emergency.loader import hazards_load

    return hazards_load(content=SMALL_YAML, actor=actor)


def unit(code: str) -> Any:
    from kepu.core.models import OrgUnit

    return OrgUnit.objects.get(code=code)


def make_expert(make_user: Any, office: Any, username: str = "expert") -> Any:
    """A talent-pool expert with an account and no staff role."""
    from kepu.community.services import expert_create

    user = make_user(username)
    expert_create(actor=office, name=f"{username}专家", organisation="常州市疾控中心", org_unit=unit("320400"),
                  fields=["公共卫生"], roles=["reviewer"], user=user)
    return user


def publish_all(reviewer: Any, publisher: Any) -> int:
    from kepu.emergency.loader import starter_review

    return starter_review(reviewer=reviewer, publisher=publisher)


def audits(action: str) -> list[Any]:
    from kepu.core.models import AuditEntry

    return list(AuditEntry.objects.filter(action=action).order_by("pk"))


@pytest.fixture
def editors(users: Any, make_user: Any) -> dict[str, Any]:
    return {**users, "editor": make_user("editor", ("editor", "320400", None)),
            "expert": make_expert(make_user, users["office"])}


# --- the loader ------------------------------------------------------------------------------------


def test_loader_creates_hazards_and_guidance_as_drafts_and_is_idempotent(users: Any) -> None:
    from kepu.emergency.models import Guidance, Hazard

    first = load_small(users["office"])
    assert (first.hazards_created, first.guidance_created) == (2, 4)
    flood = Hazard.objects.get(code="flood")
    assert flood.keywords == ["暴雨", "内涝", "119"] and flood.category == "natural"
    keys = sorted(flood.guidance.values_list("key", flat=True))
    assert keys == ["during-all-1", "during-elderly-1", "prepare-all-1"]
    assert set(Guidance.objects.values_list("status", flat=True)) == {"draft"}

    second = load_small(users["office"])
    assert (second.hazards_created, second.hazards_updated, second.guidance_created, second.guidance_updated,
            second.unchanged) == (0, 0, 0, 0, 4)
    assert Guidance.objects.count() == 4


def test_reloading_changed_text_returns_reviewed_guidance_to_draft_audited(editors: Any) -> None:
    from kepu.emergency.loader import hazards_load
    from kepu.emergency.models import Guidance

    load_small(editors["office"])
    publish_all(editors["expert"], editors["office"])
    changed = SMALL_YAML.replace("不要涉水行走", "千万不要涉水行走")
    result = hazards_load(content=changed, actor=editors["office"])
    assert (result.guidance_updated, result.unchanged) == (1, 3)
    g = Guidance.objects.get(key="during-all-1")
    assert g.status == "draft" and g.reviewed_by is None and "千万不要" in g.body_zh
    entry = audits("guidance.update")[-1]
    assert entry.changes["body_zh"][0] == BODY and entry.changes["status"] == ["published", "draft"]


def test_loader_is_all_or_nothing_and_names_every_bad_row(users: Any) -> None:
    from kepu.core.errors import InputError
    from kepu.emergency.loader import hazards_load
    from kepu.emergency.models import Guidance, Hazard

    bad = (SMALL_YAML.replace("phase: prepare", "phase: before")
           .replace("category: natural\n    keywords: [高温", "category: weather\n    keywords: [高温")
           .replace("group: workers", "group: drivers"))
    with pytest.raises(InputError) as exc:
        hazards_load(content=bad, actor=users["office"])
    errors = exc.value.errors
    assert any("第 1 个灾种（flood）第 1 条指引" in e and "阶段" in e for e in errors)
    assert any("第 2 个灾种（heat）" in e and "类别" in e for e in errors)
    assert any("第 2 个灾种（heat）第 1 条指引" in e and "人群" in e for e in errors)
    assert Hazard.objects.count() == 0 and Guidance.objects.count() == 0


def test_loader_refuses_body_outside_the_schema_bounds_and_bad_yaml(users: Any) -> None:
    from kepu.core.errors import InputError
    from kepu.emergency.loader import hazards_load

    with pytest.raises(InputError) as exc:
        hazards_load(content=SMALL_YAML.replace(BODY, "太短了。"), actor=users["office"])
    assert any("中文正文：应为 60–220 字" in e for e in exc.value.errors)
    with pytest.raises(InputError, match=r"第 [0-9]+ 行：YAML 格式错误"):
        hazards_load(content="hazards:\n  - code: [unclosed\n", actor=users["office"])
    with pytest.raises(InputError, match="hazards:"):
        hazards_load(content="- just a list\n", actor=users["office"])
    with pytest.raises(InputError, match="文件过大"):
        hazards_load(content=b"#" * (3 * 1024 * 1024), actor=users["office"])


def test_cli_loads_a_file_and_reports_row_errors(users: Any, tmp_path: Path, capsys: Any) -> None:
    from kepu.emergency.models import Hazard

    good = tmp_path / "h.yaml"
    good.write_text(SMALL_YAML, encoding="utf-8")
    call_command("emergency", "load-hazards", str(good))
    assert Hazard.objects.count() == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text(SMALL_YAML.replace("code: heat", "code: 高温!"), encoding="utf-8")
    with pytest.raises(CommandError, match="nothing was loaded"):
        call_command("emergency", "load-hazards", str(bad))
    assert "代码" in capsys.readouterr().err


def test_the_starter_set_loads_cleanly_and_covers_the_issues_hazards(users: Any) -> None:
    from kepu.emergency.loader import DEFAULT_FILE, hazards_load
    from kepu.emergency.models import Guidance, Hazard

    if not DEFAULT_FILE.exists():
        pytest.skip("the starter set is being written")
    result = hazards_load(content=DEFAULT_FILE.read_bytes(), actor=users["office"])
    codes = set(Hazard.objects.values_list("code", flat=True))
    assert {"epidemic", "flood", "typhoon", "heat", "cold_wave", "earthquake", "fire", "chemical", "food_safety",
            "telecom_fraud"} <= codes
    assert result.guidance_created == Guidance.objects.count() > 3 * len(codes)
    for h in Hazard.objects.all():
        assert set(h.guidance.values_list("phase", flat=True)) == {"prepare", "during", "recover"}, h.code


# --- review and publishing ---------------------------------------------------------------------------


def test_an_expert_reviews_and_the_office_publishes(editors: Any) -> None:
    from kepu.emergency.models import Guidance
    from kepu.emergency.services import guidance_publish, guidance_review

    load_small(editors["office"])
    g = Guidance.objects.get(key="during-all-1")
    guidance_review(actor=editors["expert"], guidance=g)
    g.refresh_from_db()
    assert g.status == "reviewed" and g.reviewed_by == editors["expert"]
    guidance_publish(actor=editors["editor"], guidance=g)
    g.refresh_from_db()
    assert g.status == "published" and g.published_at is not None
    assert [a.action for a in audits("guidance.review")] == ["guidance.review"]
    # the reviewer role reviews too
    g2 = Guidance.objects.get(key="prepare-all-1")
    guidance_review(actor=editors["reviewer"], guidance=g2)
    g2.refresh_from_db()
    assert g2.reviewed_by == editors["reviewer"]


def test_nobody_reviews_their_own_guidance(editors: Any) -> None:
    from kepu.core.errors import PermissionDenied
    from kepu.emergency.models import Guidance, Hazard
    from kepu.emergency.services import GuidanceInput, guidance_create, guidance_review

    load_small(editors["office"])
    # a reviewer who is also an editor writes a piece, then tries to review it
    both = editors["reviewer"]
    from kepu.core.models import RoleAssignment

    RoleAssignment.objects.create(user=both, role="editor", org_unit=unit("320400"))
    both = type(both).objects.get(pk=both.pk)
    g = guidance_create(actor=both, hazard=Hazard.objects.get(code="heat"), data=GuidanceInput(
        phase="prepare", group="all", title_zh="提前准备防暑用品", body_zh="准备防暑降温药品。"))
    with pytest.raises(PermissionDenied, match="不能审核自己"):
        guidance_review(actor=both, guidance=g)
    g.refresh_from_db()
    assert g.status == "draft" and g.reviewed_by is None
    assert audits("guidance.review_refused")[-1].actor == both
    # someone who is neither expert nor reviewer may not review at all
    with pytest.raises(PermissionDenied):
        guidance_review(actor=editors["wujin"], guidance=Guidance.objects.get(key="during-all-1"))
    assert Guidance.objects.filter(status="reviewed").count() == 0


def test_publishing_without_review_is_refused_and_audited(editors: Any) -> None:
    from kepu.core.errors import InputError
    from kepu.emergency.models import Guidance
    from kepu.emergency.services import guidance_publish

    load_small(editors["office"])
    g = Guidance.objects.get(key="during-all-1")
    with pytest.raises(InputError, match="未经专家审核"):
        guidance_publish(actor=editors["office"], guidance=g)
    g.refresh_from_db()
    assert g.status == "draft"
    assert audits("guidance.publish_refused")[-1].object_id == str(g.pk)


def test_editing_published_guidance_needs_a_reason_and_is_audited_old_to_new(editors: Any) -> None:
    from kepu.core.errors import InputError
    from kepu.emergency.models import Guidance
    from kepu.emergency.services import GuidanceInput, guidance_update

    load_small(editors["office"])
    publish_all(editors["expert"], editors["office"])
    g = Guidance.objects.get(key="during-all-1")
    new = GuidanceInput(phase="during", group="all", title_zh="洪水来了怎么办（修订）", body_zh=BODY)
    with pytest.raises(InputError, match="不能悄悄修改"):
        guidance_update(actor=editors["editor"], guidance=g, data=new)
    g.refresh_from_db()
    assert g.title_zh == "洪水来了怎么办" and audits("guidance.update_refused")
    guidance_update(actor=editors["editor"], guidance=g, data=new, reason="标题更明确")
    g.refresh_from_db()
    assert g.title_zh == "洪水来了怎么办（修订）" and g.status == "published"
    entry = audits("guidance.update_published")[-1]
    assert entry.changes["title_zh"] == ["洪水来了怎么办", "洪水来了怎么办（修订）"]
    assert entry.comment == "标题更明确" and entry.actor == editors["editor"]


# --- abuse: markup, invisible characters, size ------------------------------------------------------


def test_html_and_script_are_removed_and_zero_width_characters_stripped(editors: Any) -> None:
    from kepu.emergency.models import Hazard
    from kepu.emergency.services import GuidanceInput, guidance_create

    load_small(editors["office"])
    g = guidance_create(actor=editors["editor"], hazard=Hazard.objects.get(code="heat"), data=GuidanceInput(
        phase="recover", group="all", title_zh="<b>高温</b>\u200b过后<script>alert(1)</script>",
        body_zh='<p onclick="x()">多喝水，<img src=x onerror=alert(1)>注意\u200d休息。</p><script>steal()</script>'))
    assert g.title_zh == "高温过后"
    assert g.body_zh == "多喝水，注意休息。"
    # and the page shows it escaped, never as markup
    c = Client()
    c.force_login(editors["editor"])
    page = c.get("/emergency/hazards/heat/").content.decode()
    assert "<script>alert" not in page and "onerror" not in page and "多喝水，注意休息。" in page


def test_oversized_text_is_refused(editors: Any) -> None:
    from kepu.core.errors import InputError
    from kepu.emergency.models import Guidance, Hazard
    from kepu.emergency.services import GuidanceInput, guidance_create

    load_small(editors["office"])
    before = Guidance.objects.count()
    with pytest.raises(InputError, match="内容过长"):
        guidance_create(actor=editors["editor"], hazard=Hazard.objects.get(code="heat"), data=GuidanceInput(
            phase="during", group="all", title_zh="长", body_zh="字" * 5000))
    with pytest.raises(InputError, match="内容过长"):  # refused unread, however much markup it carries
        guidance_create(actor=editors["editor"], hazard=Hazard.objects.get(code="heat"), data=GuidanceInput(
            phase="during", group="all", title_zh="长", body_zh="<b></b>" * 2_000_000))
    assert Guidance.objects.count() == before


def test_api_refuses_oversized_bodies_and_enforces_review_rules(editors: Any, api_client: Any) -> None:
    from kepu.emergency.models import Guidance

    load_small(editors["office"])
    editor = api_client(editors["editor"])
    huge = '{"phase": "during", "title_zh": "x", "body_zh": "' + "字" * (10 * 1024 * 1024 // 3) + '"}'
    r = editor.post("/api/emergency/hazards/heat/guidance", huge, content_type="application/json")
    assert r.status_code == 413
    r = editor.post("/api/emergency/hazards/heat/guidance",
                    {"phase": "during", "title_zh": "x", "body_zh": "字" * 3000}, content_type="application/json")
    assert r.status_code == 422
    r = editor.post("/api/emergency/hazards/heat/guidance",
                    {"phase": "during", "group": "all", "title_zh": "补水<script>x</script>",
                     "body_zh": "少量多次喝水。"},
                    content_type="application/json")
    assert r.status_code == 201 and r.json()["title_zh"] == "补水" and r.json()["status"] == "draft"
    gid = r.json()["id"]
    # publishing unreviewed: 422; the editor cannot review (no expert); the expert reviews; then publish
    assert editor.post(f"/api/emergency/guidance/{gid}/publish").status_code == 422
    assert editor.post(f"/api/emergency/guidance/{gid}/review", {}, content_type="application/json").status_code == 403
    expert = Client()  # experts hold no staff role (no API token): the session, as the pages use
    expert.force_login(editors["expert"])
    r = expert.post(f"/api/emergency/guidance/{gid}/review", {}, content_type="application/json")
    assert r.status_code == 200 and r.json()["reviewed_by"] == "expert"
    assert editor.post(f"/api/emergency/guidance/{gid}/publish").json()["status"] == "published"
    # a silent edit of published guidance is refused; with a reason it goes through
    body = {"phase": "during", "group": "all", "title_zh": "补水（修订）", "body_zh": "少量多次喝水。"}
    assert editor.put(f"/api/emergency/guidance/{gid}", body, content_type="application/json").status_code == 422
    r = editor.put(f"/api/emergency/guidance/{gid}", {**body, "reason": "更正"}, content_type="application/json")
    assert r.status_code == 200 and Guidance.objects.get(pk=gid).title_zh == "补水（修订）"
    # public read shows only published guidance
    public = Client().get("/api/emergency/hazards/heat").json()
    assert [g["title_zh"] for g in public["guidance"]] == ["补水（修订）"]


# --- pages -------------------------------------------------------------------------------------------


def test_review_page_lists_others_drafts_and_reviews_by_post(editors: Any) -> None:
    from kepu.emergency.models import Guidance

    load_small(editors["office"])
    c = Client()
    c.force_login(editors["expert"])
    page = c.get("/emergency/review/")
    assert page.status_code == 200 and "洪水来了怎么办" in page.content.decode()
    g = Guidance.objects.get(key="during-all-1")
    r = c.post(f"/emergency/guidance/{g.pk}/review/")
    assert r.status_code == 302
    g.refresh_from_db()
    assert g.status == "reviewed"


def test_citizen_hazard_pages_show_only_published_guidance(editors: Any) -> None:
    from kepu.emergency.models import Guidance
    from kepu.emergency.services import guidance_publish, guidance_review

    load_small(editors["office"])
    g = Guidance.objects.get(key="during-all-1")
    guidance_review(actor=editors["expert"], guidance=g)
    guidance_publish(actor=editors["office"], guidance=g)
    c = Client()
    listing = c.get("/me/hazards/").content.decode()
    assert "洪涝" in listing and "高温" not in listing
    detail = c.get("/me/hazards/flood/").content.decode()
    assert "洪水来了怎么办" in detail and "汛前准备" not in detail
    en = c.get("/me/hazards/flood/", HTTP_ACCEPT_LANGUAGE="en")
    assert en.status_code == 200


def test_staff_pages_render_and_non_authors_cannot_edit(editors: Any) -> None:
    load_small(editors["office"])
    c = Client()
    c.login(username="wujin", password=PASSWORD)
    assert c.get("/emergency/hazards/").status_code == 200
    assert c.get("/emergency/hazards/flood/").status_code == 200
    assert c.get("/emergency/hazards/flood/guidance/new/").status_code == 403
    c.login(username="editor", password=PASSWORD)
    r = c.post("/emergency/hazards/flood/guidance/new/", {
        "phase": "recover", "group": "farmers", "title_zh": "灾后农田排涝", "body_zh": "及时清沟排水，扶正作物。"})
    assert r.status_code == 302
    from kepu.emergency.models import Guidance

    assert Guidance.objects.get(title_zh="灾后农田排涝").author == editors["editor"]
