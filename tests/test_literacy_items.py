"""The item bank: the starter bank's coverage, import/export round trips with row-level errors,
the review workflow, and answer scoring."""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from conftest import REPO
from kepu.core.errors import InputError

pytestmark = pytest.mark.django_db
ITEMS = REPO / "data/literacy/items"


def starter_rows() -> list[dict[str, Any]]:
    from kepu.literacy.items import read_item_file

    rows: list[dict[str, Any]] = []
    for path in sorted(ITEMS.glob("*.yaml")):
        rows += read_item_file(path)
    return rows


def test_starter_bank_covers_dimensions_types_and_the_plans_topics() -> None:
    from kepu.literacy.items import _row_errors

    rows = starter_rows()
    assert len(rows) >= 150
    assert [e for i, r in enumerate(rows) for e in _row_errors(r, str(i))] == []
    assert len({r["code"] for r in rows}) == len(rows)
    dims = Counter(r["dimension"] for r in rows)
    assert set(dims) == {"knowledge", "method", "spirit", "application"} and min(dims.values()) >= 20
    assert set(Counter(r["type"] for r in rows)) == {"true_false", "single", "multiple", "scenario"}
    topics = Counter(t for r in rows for t in r["topics"])
    for topic in ("health", "emergency", "agriculture", "digital_life", "industrial_safety", "green"):
        assert topics[topic] >= 3, topic
    groups = Counter(g for r in rows for g in r["groups"])
    assert {"youth", "farmers", "workers", "elderly", "officials"} <= set(groups)
    anchors = Counter(r["dimension"] for r in rows if r.get("anchor"))
    assert set(anchors) == set(dims)
    assert all(r["stem_zh"] and r["stem_en"] for r in rows)


def test_yaml_and_xlsx_round_trip(tmp_path: Path) -> None:
    from kepu.literacy.items import items_export_xlsx, items_export_yaml, items_import, read_item_file
    from kepu.literacy.models import Item

    items_import(rows=starter_rows(), source="starter")
    before = {i.code: (i.key, i.options, i.points, i.anchor, i.topics) for i in Item.objects.all()}
    y = tmp_path / "bank.yaml"
    y.write_text(items_export_yaml(Item.objects.all()), encoding="utf-8")
    x = tmp_path / "bank.xlsx"
    x.write_bytes(items_export_xlsx(Item.objects.all()))
    unchanged = {"created": 0, "updated": 0, "revisions": 0, "unchanged": len(before)}
    assert items_import(rows=read_item_file(y), source="y") == unchanged
    assert items_import(rows=read_item_file(x), source="x") == unchanged
    assert {i.code: (i.key, i.options, i.points, i.anchor, i.topics) for i in Item.objects.all()} == before


def test_xlsx_errors_name_the_row_and_nothing_is_written(tmp_path: Path) -> None:
    from kepu.literacy.items import items_export_xlsx, items_import, read_item_file
    from kepu.literacy.models import Item
    from kepu.literacy.tests.factories import item_rows

    items_import(rows=item_rows(), source="seed")
    Item.objects.filter(code="K001").update(stem_zh="原题")
    wb = load_workbook(io.BytesIO(items_export_xlsx(Item.objects.all())))
    ws = wb.active
    header = [c.value for c in ws[1]]
    ws.cell(row=2, column=header.index("stem_zh") + 1, value="改过的题")  # a valid edit in row 2 …
    ws.cell(row=4, column=header.index("dimension") + 1, value="magic")  # … and a bad row 4
    buf = io.BytesIO()
    wb.save(buf)
    path = tmp_path / "edited.xlsx"
    path.write_bytes(buf.getvalue())
    with pytest.raises(InputError) as exc:
        items_import(rows=read_item_file(path), source="edited.xlsx")
    assert any("sheet row 4" in e and "dimension" in e and "magic" in e for e in exc.value.errors), exc.value.errors
    assert Item.objects.get(code="K001").stem_zh == "原题"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"key": "E"}, "key: E is not an option"),
        ({"type": "essay"}, "type: expected one of"),
        ({"points": 0}, "points"),
        ({"difficulty": 1.5}, "difficulty"),
        ({"jizhun": 27}, "jizhun"),
        ({"stem_en": ""}, "stem_en: required"),
    ],
)
def test_bad_item_fields(change: dict[str, Any], message: str) -> None:
    from kepu.literacy.items import items_import
    from kepu.literacy.models import Item
    from kepu.literacy.tests.factories import item_rows

    rows = item_rows()
    rows[1].update(change)
    with pytest.raises(InputError) as exc:
        items_import(rows=rows, source="bank.yaml")
    assert any(message in e and "row 2" in e for e in exc.value.errors), exc.value.errors
    assert Item.objects.count() == 0


def test_review_workflow(make_user: Any) -> None:
    from kepu.core.models import AuditEntry
    from kepu.literacy.items import item_transition, items_import
    from kepu.literacy.models import Item
    from kepu.literacy.tests.factories import item_rows

    office = make_user("office", ("office_admin", "320400", None))
    items_import(rows=item_rows(status="draft"), source="t")
    item = Item.objects.get(code="K002")
    with pytest.raises(InputError, match="K002 当前为“草稿”，不能改为“已上线”"):
        item_transition(item=item, to="live", actor=office)
    for to in ("reviewed", "live", "retired"):
        item_transition(item=item, to=to, actor=office)
    assert Item.objects.get(code="K002").status == "retired"
    assert list(AuditEntry.objects.filter(action="item.status").values_list("changes", flat=True)) == [
        {"status": ["live", "retired"]},
        {"status": ["reviewed", "live"]},
        {"status": ["draft", "reviewed"]},
    ]


def test_answers_are_scored_exactly() -> None:
    from kepu.literacy.items import item_points, normalise_response
    from kepu.literacy.models import Item

    tf = Item(type="true_false", key=False, points=1)
    single = Item(type="single", key="C", points=1, options=[{"key": k} for k in "ABCD"])
    multi = Item(type="multiple", key=["A", "D"], points=2, options=[{"key": k} for k in "ABCDE"])
    assert item_points(tf, normalise_response(tf, "错")) == (1.0, True)
    assert item_points(single, normalise_response(single, "c")) == (1.0, True)
    assert item_points(multi, normalise_response(multi, "DA")) == (2.0, True)
    assert item_points(multi, normalise_response(multi, ["A"])) == (0.0, False)  # no partial credit
    with pytest.raises(ValueError):
        normalise_response(single, "AB")


def _bank_state() -> dict[str, Any]:
    from kepu.literacy.models import Item, ItemRevision

    return {
        "items": {i.code: (i.stem_zh, i.key, i.status, i.revision, i.updated_at) for i in Item.objects.all()},
        "revisions": list(ItemRevision.objects.values_list("item__code", "number", "status", "data")),
    }


def test_reimporting_the_unchanged_bank_changes_nothing() -> None:
    from kepu.core.models import AuditEntry
    from kepu.literacy.items import items_import

    rows = starter_rows()
    items_import(rows=[dict(r) for r in rows], source="first")
    before, audits = _bank_state(), AuditEntry.objects.count()
    result = items_import(rows=[dict(r) for r in rows], source="again")
    assert result == {"created": 0, "updated": 0, "revisions": 0, "unchanged": len(rows)}
    assert _bank_state() == before and AuditEntry.objects.count() == audits


def test_a_change_to_a_live_item_becomes_a_draft_revision_that_goes_through_review(make_user: Any) -> None:
    from kepu.core.models import AuditEntry
    from kepu.literacy.items import item_revision_transition, items_import
    from kepu.literacy.models import Item, ItemRevision
    from kepu.literacy.tests.factories import item_rows

    office = make_user("office", ("office_admin", "320400", None))
    items_import(rows=item_rows(), source="seed")  # all live
    edited = item_rows()
    edited[1].update(stem_zh="改过的题干", key="C")  # K002, live
    edited[0].update(status="retired")  # an import never moves an existing item's status
    result = items_import(rows=[dict(r) for r in edited], source="edit.yaml")
    assert result["revisions"] == 1 and result["updated"] == 0

    live = Item.objects.get(code="K002")
    assert (live.stem_zh, live.key, live.status, live.revision) == ("单选题 K002", "B", "live", 1)
    assert Item.objects.get(code="K001").status == "live"
    revision = ItemRevision.objects.get(item=live)
    assert (revision.number, revision.status, revision.data["stem_zh"], revision.data["key"]) == (
        2, "draft", "改过的题干", "C")
    entry = AuditEntry.objects.filter(action="item.revision").get()
    assert "K002" in entry.comment and "待审核" in entry.comment and "Revision(" not in entry.comment

    # The same file again: the waiting revision already says this, nothing new.
    assert items_import(rows=[dict(r) for r in edited], source="edit.yaml")["revisions"] == 0
    assert ItemRevision.objects.count() == 1

    with pytest.raises(InputError):
        item_revision_transition(revision=revision, to="applied", actor=office)  # review first
    assert Item.objects.get(code="K002").key == "B"
    item_revision_transition(revision=revision, to="reviewed", actor=office)
    item_revision_transition(revision=revision, to="applied", actor=office)
    live.refresh_from_db()
    revision.refresh_from_db()
    assert (live.stem_zh, live.key, live.status, live.revision) == ("改过的题干", "C", "live", 2)
    assert revision.previous["stem_zh"] == "单选题 K002" and revision.decided_at is not None

    # After the revision is in force, the edited file is the bank: re-importing it changes nothing.
    again = items_import(rows=[dict(r) for r in edited], source="edit.yaml")
    assert again["revisions"] == 0 and again["updated"] == 0


def test_draft_items_are_edited_in_place_and_a_reviewed_one_goes_back_to_draft() -> None:
    from kepu.literacy.items import items_import
    from kepu.literacy.models import Item, ItemRevision
    from kepu.literacy.tests.factories import item_rows

    items_import(rows=item_rows(status="draft"), source="seed")
    Item.objects.filter(code="K003").update(status="reviewed")
    edited = item_rows(status="draft")
    edited[1].update(stem_zh="新题干")
    edited[2].update(stem_zh="又一个新题干")
    assert items_import(rows=edited, source="e")["updated"] == 2
    assert Item.objects.get(code="K002").stem_zh == "新题干"
    k003 = Item.objects.get(code="K003")
    assert (k003.stem_zh, k003.status) == ("又一个新题干", "draft")
    assert not ItemRevision.objects.exists()


# -- the item bank page (issue 6 point 11) ---------------------------------------------------------

@pytest.fixture
def bank(users: dict[str, Any]) -> None:
    from kepu.literacy.items import items_import
    from kepu.literacy.tests.factories import item_rows

    rows = item_rows()
    rows[0].update(topics=["health", "digital_life"], groups=["elderly"], stem_zh="抗生素可以杀灭病毒")
    rows[1].update(topics=["emergency"])
    items_import(rows=rows, source="seed")


def _client(username: str) -> Any:
    from django.test import Client

    from conftest import PASSWORD

    c = Client()
    assert c.login(username=username, password=PASSWORD)
    return c


def _codes(response: Any) -> list[str]:
    return [i.code for i, _tags in response.context["items"]]


def test_item_bank_search_and_filters(bank: None) -> None:
    c = _client("viewer_wujin")
    assert _codes(c.get("/literacy/items/", {"q": "抗生素"})) == ["K001"]
    assert _codes(c.get("/literacy/items/", {"q": "k002"})) == ["K002"]
    assert _codes(c.get("/literacy/items/", {"topic": "emergency"})) == ["K002"]
    assert set(_codes(c.get("/literacy/items/", {"dimension": "method"}))) == {f"M00{i}" for i in range(1, 7)}
    singles = _codes(c.get("/literacy/items/", {"type": "single", "dimension": "spirit"}))
    assert singles == ["S002", "S004", "S006"]
    assert _codes(c.get("/literacy/items/", {"q": "不存在的文字"})) == []


def test_item_tags_are_chinese(bank: None) -> None:
    c = _client("viewer_wujin")
    html = c.get("/literacy/items/").content.decode()
    assert '<span class="tag">健康</span>' in html and '<span class="tag">数字生活</span>' in html
    assert "digital_life" not in html.replace('value="digital_life"', "")  # only as a filter value
    detail = c.get("/literacy/items/K001/").content.decode()
    assert "健康" in detail and "老年人" in detail and "elderly" not in detail


def test_item_detail_shows_revisions_and_history(bank: None, users: dict[str, Any]) -> None:
    from kepu.literacy.items import items_import
    from kepu.literacy.models import Item
    from kepu.literacy.tests.factories import item_rows

    edited = item_rows()
    edited[1].update(stem_zh="改过的题干")
    items_import(rows=edited, source="edit.xlsx", actor=users["office"])
    c = _client("reviewer")
    html = c.get("/literacy/items/K002/").content.decode()
    assert 'data-testid="revision-2"' in html and "改过的题干" in html and "题干(中文)" in html
    assert "edit.xlsx" in html and "待审核" in html
    c.post("/literacy/items/K002/revisions/2/", {"to": "reviewed"})
    c.post("/literacy/items/K002/revisions/2/", {"to": "applied"})
    assert Item.objects.get(code="K002").stem_zh == "改过的题干"
    history = c.get("/literacy/items/K002/")
    entries = [e.comment for e in history.context["history"]]
    assert any("生效" in e for e in entries) and any("审核通过" in e for e in entries)
    assert any("待审核" in e for e in entries) and any("新增题目" in e for e in entries)
    assert 'data-testid="history"' in history.content.decode()


def test_retiring_an_item_needs_a_confirmation(bank: None) -> None:
    from kepu.literacy.models import Item

    c = _client("office")
    bank_page = c.get("/literacy/items/").content.decode()
    assert "停用…" in bank_page  # the button says a question follows
    asked = c.post("/literacy/items/K001/status/", {"to": "retired"})
    assert asked.status_code == 200 and "确定停用题目 K001？" in asked.content.decode()
    assert Item.objects.get(code="K001").status == "live"
    done = c.post("/literacy/items/K001/status/", {"to": "retired", "confirm": "yes", "next": "detail"})
    assert done.status_code == 302 and done["Location"] == "/literacy/items/K001/"
    assert Item.objects.get(code="K001").status == "retired"


def test_only_reviewers_review_revisions(bank: None, users: dict[str, Any]) -> None:
    from kepu.literacy.items import items_import
    from kepu.literacy.models import ItemRevision
    from kepu.literacy.tests.factories import item_rows

    edited = item_rows()
    edited[1].update(stem_zh="改过的题干")
    items_import(rows=edited, source="e")
    assert _client("wujin").post("/literacy/items/K002/revisions/2/", {"to": "reviewed"}).status_code == 403
    assert ItemRevision.objects.get(item__code="K002").status == "draft"
