"""Excel import/export of volunteer teams (issue 10 point 11): round trip, all-or-nothing with every row
error named, district scope, and the audit trail."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import Client
from openpyxl import Workbook, load_workbook

from kepu.community import registry_io
from kepu.community import volunteers as svc
from kepu.community.models import VolunteerTeam
from kepu.core.errors import InputError
from kepu.core.models import AuditEntry, OrgUnit

pytestmark = pytest.mark.django_db

WUJIN, XINBEI = "320412", "320411"
HEAD = registry_io.TEAM_COLUMNS


def xlsx(rows: list[list[Any]]) -> bytes:
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_team_import_round_trips_through_export(users: dict[str, Any]) -> None:
    content = xlsx([HEAD,
                    ["湖塘银龄科普志愿服务队（演示）", "银龄科普志愿服务队", WUJIN, "张老师"],
                    ["武进五老宣讲团（演示）", "wulao", WUJIN, ""],
                    ["武进科普信息员（演示）", "", WUJIN, "李主任"]])
    n = registry_io.import_(actor=users["wujin"], kind="teams", content=content, name="teams.xlsx")
    assert n == 3
    teams = {t.name: t for t in VolunteerTeam.objects.all()}
    assert teams["湖塘银龄科普志愿服务队（演示）"].kind == "silver"
    assert teams["湖塘银龄科普志愿服务队（演示）"].leader == "张老师"
    assert teams["武进五老宣讲团（演示）"].kind == "wulao"
    assert teams["武进科普信息员（演示）"].kind == "general"  # blank type: the default
    entry = AuditEntry.objects.filter(action="community.import_teams").get()
    assert entry.actor == users["wujin"]
    assert AuditEntry.objects.filter(action="volunteer_team.create").count() == 3

    # The export has the import's columns, so the file goes back in (into another database state)
    r = client(users["wujin"]).get("/community/teams/export.xlsx")
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).active
    rows = [list(row) for row in ws.iter_rows(values_only=True)]
    assert rows[0] == HEAD
    assert ["湖塘银龄科普志愿服务队（演示）", "银龄科普志愿服务队", WUJIN, "张老师"] in rows
    VolunteerTeam.objects.all().delete()
    exported = xlsx([[c if c is not None else "" for c in row] for row in rows])
    assert registry_io.import_(actor=users["wujin"], kind="teams", content=exported, name="back.xlsx") == 3
    assert sorted(VolunteerTeam.objects.values_list("name", "kind", "org_unit__code", "leader")) == sorted(
        [("湖塘银龄科普志愿服务队（演示）", "silver", WUJIN, "张老师"), ("武进五老宣讲团（演示）", "wulao", WUJIN, ""),
         ("武进科普信息员（演示）", "general", WUJIN, "李主任")])

    # Re-importing the same teams is refused: the name exists in that unit already
    with pytest.raises(InputError) as exc:
        registry_io.import_(actor=users["wujin"], kind="teams", content=exported, name="again.xlsx")
    assert any(e.startswith("第 2 行 队伍名称") and "已有" in e for e in exc.value.errors)


def test_team_import_is_all_or_nothing_and_names_every_row(users: dict[str, Any]) -> None:
    content = xlsx([HEAD,
                    ["好队伍（演示）", "科技志愿服务队", WUJIN, ""],
                    ["好队伍（演示）", "科技志愿服务队", WUJIN, ""],      # same name as row 2
                    ["外区队伍", "科技志愿服务队", XINBEI, ""],           # another district
                    ["怪队伍", "篮球队", WUJIN, ""],                      # unknown type
                    ["", "科技志愿服务队", WUJIN, ""],                    # no name
                    ["无单位队", "科技志愿服务队", "999999", ""]])        # unknown unit
    with pytest.raises(InputError) as exc:
        registry_io.import_(actor=users["wujin"], kind="teams", content=content, name="bad.xlsx")
    errors = exc.value.errors
    assert any(e.startswith("第 3 行 队伍名称") and "第 2 行" in e for e in errors)
    assert any(e.startswith("第 4 行 ") and "无权" in e for e in errors)
    assert any(e.startswith("第 5 行 队伍类型") and "篮球队" in e for e in errors)
    assert any(e.startswith("第 6 行 队伍名称：必填") for e in errors)
    assert any(e.startswith("第 7 行 ") and "999999" in e for e in errors)
    assert not any(e.startswith("第 2 行") for e in errors)
    # Nothing written, nothing audited
    assert not VolunteerTeam.objects.exists()
    assert not AuditEntry.objects.filter(action__in=["community.import_teams", "volunteer_team.create"]).exists()

    # The page shows the errors and writes nothing
    r = client(users["wujin"]).post("/community/teams/import/",
                                    {"file": io.BytesIO(content)}, follow=True)
    assert r.status_code == 200
    assert "第 5 行 队伍类型" in r.content.decode()
    assert not VolunteerTeam.objects.exists()


def test_team_export_and_import_are_scoped_to_the_district(users: dict[str, Any]) -> None:
    svc.team_create(actor=users["xinbei"], name="新北科普志愿服务队（演示）", kind="general",
                    org_unit=OrgUnit.objects.get(code=XINBEI))
    svc.team_create(actor=users["wujin"], name="武进科普志愿服务队（演示）", kind="general",
                    org_unit=OrgUnit.objects.get(code=WUJIN))
    names = [row[0] for row in load_workbook(io.BytesIO(
        client(users["wujin"]).get("/community/teams/export.xlsx").content)).active.iter_rows(values_only=True)]
    assert "武进科普志愿服务队（演示）" in names and "新北科普志愿服务队（演示）" not in names
    office = [row[0] for row in load_workbook(io.BytesIO(
        client(users["office"]).get("/community/teams/export.xlsx").content)).active.iter_rows(values_only=True)]
    assert {"武进科普志愿服务队（演示）", "新北科普志愿服务队（演示）"} <= set(office)
    # 新北's officer cannot import a team into 武进
    with pytest.raises(InputError) as exc:
        registry_io.import_(actor=users["xinbei"], kind="teams",
                            content=xlsx([HEAD, ["越界队（演示）", "", WUJIN, ""]]), name="x.xlsx")
    assert exc.value.errors[0].startswith("第 2 行 ") and "无权" in exc.value.errors[0]
    assert not VolunteerTeam.objects.filter(name="越界队（演示）").exists()
    # A viewer cannot export at all
    assert client(users["viewer_wujin"]).get("/community/teams/export.xlsx").status_code == 403


def test_teams_page_links_export_and_import(users: dict[str, Any]) -> None:
    html = client(users["wujin"]).get("/community/teams/").content.decode()
    assert "/community/teams/export.xlsx" in html
    assert 'action="/community/teams/import/"' in html
