"""Plan versions (issue 8, point 9): every import keeps its file, and two versions can be compared
target by target and task by task, from the command line and on the versions page."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from conftest import PASSWORD, PLAN_FILE
from kepu.plans.models import Plan, PlanImport
from kepu.plans.plan_import import plan_import
from kepu.plans.versions import version_diff, version_get
from tests.conftest import target_of


def _first_task(doc: dict[str, Any]) -> dict[str, Any]:
    task: dict[str, Any] = doc["programmes"][0]["sections"][0]["tasks"][0]
    return task


def _edit(doc: dict[str, Any]) -> None:
    target_of(doc, "T03")["value"] = 60
    _first_task(doc)["name_zh"] = "修订后的任务名称"


@pytest.fixture
def two_versions(plan: Plan, edited_plan: Any, django_capture_on_commit_callbacks: Any) -> Plan:
    with django_capture_on_commit_callbacks(execute=True):
        updated, _ = plan_import(path=edited_plan(_edit))
    return updated


def test_every_import_keeps_its_file_and_document(two_versions: Plan) -> None:
    # Given the plan imported, then re-imported with T03 at 60 (two_versions)
    v1, v2 = version_get(two_versions, 1), version_get(two_versions, 2)
    # Then version 1 still holds the original file, byte for byte, and its document
    assert v1.content == PLAN_FILE.read_text(encoding="utf-8")
    assert target_of(v1.document, "T03")["value"] == 50  # type: ignore[arg-type]
    assert target_of(v2.document, "T03")["value"] == 60  # type: ignore[arg-type]


def test_reimporting_the_same_file_adds_no_version(plan: Plan) -> None:
    plan_import(path=PLAN_FILE)
    assert PlanImport.objects.filter(plan=plan).count() == 1


def test_diff_names_the_changed_target_and_task(two_versions: Plan) -> None:
    diffs = version_diff(two_versions, 1, 2)
    changed = {(d.kind, d.key): d for d in diffs}
    # T03's value 50 → 60, and the first task's name, and nothing else
    t03 = changed[("target", "T03")]
    assert t03.state == "changed"
    assert [(c.field, c.old, c.new) for c in t03.changes] == [("value", 50, 60)]
    task_key = next(k for k in changed if k[0] == "task")
    assert [(c.field, c.new) for c in changed[task_key].changes] == [("name_zh", "修订后的任务名称")]
    assert set(changed) == {("target", "T03"), task_key}


def test_diff_shows_added_and_removed_targets(plan: Plan, edited_plan: Any) -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["targets"] = [t for t in doc["targets"] if t["code"] != "T21"]

    plan_import(path=edited_plan(edit))
    diffs = version_diff(plan, 1, 2)
    assert [(d.kind, d.key, d.state) for d in diffs if d.kind == "target"] == [("target", "T21", "removed")]
    back = version_diff(plan, 2, 1)
    assert [(d.kind, d.key, d.state) for d in back if d.kind == "target"] == [("target", "T21", "added")]


def test_versions_and_diff_commands(two_versions: Plan) -> None:
    out = io.StringIO()
    call_command("plan", "versions", "--plan", two_versions.code, stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("2 ") and lines[1].startswith("1 ")
    out = io.StringIO()
    call_command("plan", "diff", "1", "2", "--json", stdout=out)
    rows = json.loads(out.getvalue())
    t03 = next(r for r in rows if r["kind"] == "target")
    assert t03 == {
        "kind": "target",
        "key": "T03",
        "name_zh": t03["name_zh"],
        "state": "changed",
        "changes": [{"field": "value", "old": 50, "new": 60}],
    }
    out = io.StringIO()
    call_command("plan", "diff", "1", "2", stdout=out)
    assert "T03" in out.getvalue() and "value: 50 → 60" in out.getvalue()
    out = io.StringIO()
    call_command("plan", "versions", "--show", "1", stdout=out)
    assert out.getvalue().rstrip("\n") == PLAN_FILE.read_text(encoding="utf-8").rstrip("\n")
    with pytest.raises(CommandError, match="no version 7"):
        call_command("plan", "diff", "1", "7")


def _client(user: Any) -> Client:
    c = Client()
    assert c.login(username=user.username, password=PASSWORD)
    return c


def test_versions_page_and_diff_page(two_versions: Plan, users: dict[str, Any]) -> None:
    office = _client(users["office"])
    page = office.get("/plan/versions/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "版本 2" in html and "版本 1" in html and "changzhou-2021-2035.yaml" in html
    diff = office.get("/plan/versions/diff/?a=1&b=2").content.decode()
    assert "T03" in diff and "修订后的任务名称" in diff and "50" in diff and "60" in diff
    # The old version's file is shown as it was imported, and can be downloaded byte for byte
    old = office.get("/plan/versions/1/")
    assert old.status_code == 200 and "code: T03" in old.content.decode()
    raw = office.get("/plan/versions/1/file/")
    assert raw.content == PLAN_FILE.read_bytes()
    assert "changzhou-2021-2035.yaml" in raw["Content-Disposition"]


def test_versions_pages_are_for_the_office_only(two_versions: Plan, users: dict[str, Any]) -> None:
    for name in ("wujin", "edu", "viewer_wujin"):
        c = _client(users[name])
        assert c.get("/plan/versions/").status_code == 403
        assert c.get("/plan/versions/diff/?a=1&b=2").status_code == 403
        assert c.get("/plan/versions/1/").status_code == 403
        assert c.get("/plan/versions/1/file/").status_code == 403


def test_diff_page_with_an_unknown_version_is_404(two_versions: Plan, users: dict[str, Any]) -> None:
    assert _client(users["office"]).get("/plan/versions/diff/?a=1&b=9").status_code == 404


def test_versions_page_in_english(two_versions: Plan, users: dict[str, Any]) -> None:
    c = _client(users["office"])
    c.cookies["django_language"] = "en"
    html = c.get("/plan/versions/diff/?a=1&b=2", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Version 1 → version 2" in html and "Changed" in html and "修改" not in html
