"""Every measure of the seed is a task with the seed's own words and its lead (牵头) and supporting (配合)
units; `kepu plan tasks --json` is the scripts' contract (issue 8 points 1, 2, 11)."""

from __future__ import annotations

import json
import re
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command

from conftest import PLAN_FILE, REPO
from kepu.core.errors import InputError
from kepu.plans.models import Task, TaskResponsibility
from kepu.plans.plan_file import read_plan
from kepu.plans.plan_import import plan_import

pytestmark = pytest.mark.usefixtures("english")

# The plan as published (常州市科协, 2022-06-08), kept beside the plan file.
SEED_TEXT = (REPO / "data/plans/sources/changzhou-2021-2035.txt").read_text(encoding="utf-8")

# The seed's measures per section, written from the seed (三、重点任务 and 四、组织实施). Numbered measures
# "(1)…" are one task each, named by their heading. Sections without numbered measures (the resource,
# facility and service programmes, and 四(一)) are split at the seed's sentences; a short heading
# sentence ("强化科研资源集约利用。") keeps the sentence after it.
SEED_MEASURES: dict[str, tuple[str, ...]] = {
    "P1.1": ("推进青少年科学教育", "推进科创型后备人才培养", "推进校内外资源衔接"),
    "P1.2": ("拓宽培育规模", "拓深科技服务", "拓展平台建设"),
    "P1.3": ("进一步构建科学教育培训体系", "进一步推进产业工人教育培训", "进一步提高产业工人职业技能水平",
             "进一步推进新就业形态劳动者科普服务"),
    "P1.4": ("强化智慧助老服务", "强化健康养老服务", "强化银龄科普服务"),
    "P1.5": ("不断丰富教育内容", "不断创新培训方法", "不断注重考评激励"),
    "P2.1": ("加大科技资源科普化规划和支持力度", "强化科研资源集约利用", "拓展科技创新基地、科技企业孵化器",
             "支持科教城、中以创新园…开放", "充分挖掘常州地域文化中的科技元素", "开展“产业+科普”行动"),
    "P2.2": ("鼓励、支持新基建下的智慧科普设施建设", "三屏融合、三屏共享", "精准推送、智慧服务",
             "加大科普创作人才培养"),
    "P2.3": ("拓展科普交流空间", "丰富科普合作内容", "创新科普合作平台"),
    "P3.1": ("研究制定全市科普基础设施建设规划", "四级科普基础设施建设政府兜底责任", "充分发挥市场机制作用"),
    "P3.2": ("推进常州科技馆建设", "注重发挥各类科技场馆…作用", "推动学校科技场馆规范化运行",
             "鼓励…兴建各类专业科普场馆"),
    "P3.3": ("修订完善科普教育基地认定管理办法", "公共科学文化设施拓展科普服务功能", "公共场所强化科普服务功能",
             "利用各地既有工业遗产", "加强科普资源研发基地建设,成立常州市科普场馆协会",
             "到2025年,新评定市级科普教育基地100家以上"),
    "P3.4": ("构建“馆校结合”长效机制", "加强公益性科普引导", "经营性科普场馆…优惠开放",
             "支持科普场馆与图书馆等文化场馆建立相互合作关系", "持续打造 “龙城科普大讲堂”…",
             "通过提高科普共享水平…"),
    "P4.1": ("健全…四级科普组织", "利用全国科普宣传周…主题科普活动", "建立健全科技志愿服务制度",
             "发展科技志愿者和科普信息员队伍", "开展科普示范市、区创建工作", "大力推进…全域科普行动",
             "到2025年,争创2家国家级科普示范区"),
    "P4.2": ("加大科普资源集成、开发和配送力度", "充分发挥报刊、广播电视等传统媒体作用", "加强科学传播载体建设",
             "加强科学传播能力培训…科学辟谣", "加强全媒体时代的国际科学传播能力建设"),
    "P4.3": ("建立完善应急科普协同机制(组建专家委员会)", "完善各级应急科普宣教平台",
             "建设应急科普宣教资源数据库(舆情)", "应急科普知识进企业、进农村、进社区、进学校、进家庭",
             "建立应急科普专家队伍"),
    "P4.4": ("开展科普专项行动", "坚持突出重点(科普精品项目)", "深入开展院士联络服务工作(科学家精神教育基地)"),
    "P5.1": ("市政府统一领导本规划实施工作", "市各部门将本规划目标任务纳入相关工作规划、计划",
             "市全民科学素质工作领导小组办公室…牵头沟通联络", "各辖市(区)…制定本区域全民科学素质行动规划实施方案",
             "各辖市(区)政府每年至少听取一次全民科学素质工作情况"),
    "P5.2": ("完善法规政策", "强化标准建设", "保障经费投入"),
    "P5.3": ("健全监测评估制度", "完善表扬激励机制"),
}

# Phrases the issue names as lost measures: each must be in some task's text.
LOST_BEFORE = ["三屏融合", "精准推送", "科研设施设备转化为科普设备", "“产业+科普”", "工业遗产", "龙城科普大讲堂",
               "科技志愿者和科普信息员", "科普示范市、区创建", "科学辟谣", "应急科普宣教资源数据库", "舆情",
               "进企业、进农村、进社区、进学校、进家庭", "院士联络", "科学家精神教育基地", "实施方案"]

TASK_KEYS = {"code", "section", "name_zh", "text_zh", "verbatim", "lead_units", "supporting_units", "open_list"}


def _doc() -> dict[str, Any]:
    doc, errors = read_plan(PLAN_FILE)
    assert not errors and doc is not None
    return doc


def _tasks(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(s["code"], t) for p in doc["programmes"] for s in p["sections"] for t in s.get("tasks", [])]


def _tasks_json(*args: str) -> list[dict[str, Any]]:
    out = StringIO()
    call_command("plan", "tasks", "--json", *args, stdout=out)
    rows: list[dict[str, Any]] = json.loads(out.getvalue())
    return rows


def test_every_section_has_as_many_tasks_as_the_seed_has_measures() -> None:
    doc = _doc()
    per_section: dict[str, int] = {}
    for section, _t in _tasks(doc):
        per_section[section] = per_section.get(section, 0) + 1
    assert per_section == {code: len(measures) for code, measures in SEED_MEASURES.items()}
    assert sum(per_section.values()) == 78


def test_numbered_measures_are_tasks_named_by_their_heading() -> None:
    # "(1)推进青少年科学教育。" in 三、重点任务(一) and "1.完善法规政策。" in 四、组织实施(二)(三)
    numbered = re.findall(r"^\(\d\)([^。]+)。", SEED_TEXT, flags=re.M)
    numbered += [h for h in re.findall(r"^\d\.([^。]+)。", SEED_TEXT, flags=re.M)
                 if h in ("完善法规政策", "强化标准建设", "保障经费投入", "健全监测评估制度", "完善表扬激励机制")]
    assert len(numbered) == 21
    names = {t["name_zh"] for _s, t in _tasks(_doc())}
    assert [h for h in numbered if h not in names] == []


def test_verbatim_texts_occur_in_the_seed_character_for_character() -> None:
    tasks = [t for _s, t in _tasks(_doc())]
    assert all(t.get("text_zh") for t in tasks)
    verbatim = [t for t in tasks if t.get("verbatim")]
    assert len(verbatim) == len(tasks)  # nothing had to be shortened; a paraphrase would say verbatim: false
    assert [t["code"] for t in verbatim if t["text_zh"] not in SEED_TEXT] == []


def test_the_measures_the_issue_lists_as_lost_are_tasks() -> None:
    texts = " ".join(t["text_zh"] for _s, t in _tasks(_doc()))
    assert [p for p in LOST_BEFORE if p not in texts] == []


def test_guiding_ideas_principles_and_goals_are_in_the_file_verbatim() -> None:
    texts = _doc()["plan"]["texts"]
    assert {"guiding_ideas_zh", "principles_zh", "goals_2025_zh", "goals_2035_zh"} <= set(texts)
    for key, text in texts.items():
        for line in text.split("\n"):
            assert line in SEED_TEXT, key
    assert texts["principles_zh"].count("——") == 5
    assert "各辖市(区)、各人群科学素质发展更为均衡" in texts["goals_2025_zh"]
    assert "城乡和区域之间发展差距显著缩小" in texts["goals_2035_zh"]


def test_every_task_has_a_lead_unit_and_units_named_in_the_file() -> None:
    doc = _doc()
    names = {d["name_zh"] for d in doc["departments"]}
    for _s, t in _tasks(doc):
        assert t["lead_units"], t["code"]
        assert set(t["lead_units"]) | set(t.get("supporting_units", [])) <= names, t["code"]
    # the farmer-training measure is led by 市农业农村局; 市教育局 and 市气象局 are not on it
    farmers = next(t for _s, t in _tasks(doc) if t["code"] == "P1.2.1")
    assert farmers["lead_units"] == ["市农业农村局"]
    assert not {"市教育局", "市气象局"} & set(farmers["supporting_units"])
    assert "HQ_FARMERS" in farmers["indicators"]


@pytest.mark.django_db
def test_import_stores_text_units_and_indicators_per_task(plan: Any) -> None:
    task = Task.objects.get(section__programme__plan=plan, code="P1.2.1")
    assert task.verbatim and task.open_list
    assert task.text_zh.startswith("加强农民技能培训。")
    assert [d.name_zh for d in task.units(TaskResponsibility.Role.LEAD)] == ["市农业农村局"]
    assert "市妇联" in [d.name_zh for d in task.units(TaskResponsibility.Role.SUPPORT)]
    assert {i.code for i in task.indicators.all()} == {"HQ_FARMERS", "AGRI_BUSINESS_LEADERS", "RURAL_TECH_TALENT"}
    office = Task.objects.get(section__programme__plan=plan, code="P5.1.3")
    assert [d.name_zh for d in office.units("lead")] == ["市全民科学素质工作领导小组办公室"]
    assert not office.open_list


@pytest.mark.django_db
def test_plan_tasks_json_is_the_contract(plan: Any) -> None:
    rows = _tasks_json("--plan", plan.code)
    assert len(rows) == 78
    assert all(set(r) == TASK_KEYS for r in rows)
    first = rows[0]
    assert first["code"] == "P1.1.1" and first["section"] == "P1.1" and first["name_zh"] == "推进青少年科学教育"
    assert first["lead_units"] == ["市教育局"]
    assert first["supporting_units"] == ["市委宣传部", "市科技局", "市人社局", "团市委", "市妇联", "市科协",
                                         "各辖市(区)政府"]
    assert first["open_list"] is True and first["verbatim"] is True
    by_file = {t["code"]: t for _s, t in _tasks(_doc())}
    for r in rows:
        t = by_file[r["code"]]
        assert (r["text_zh"], r["lead_units"], r["supporting_units"]) == (
            t["text_zh"], t["lead_units"], t.get("supporting_units", [])
        )
    assert _tasks_json() == rows  # the default plan is the first imported


@pytest.mark.django_db
def test_plan_tasks_without_a_plan_is_a_clear_error(region: Any) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No plan nope imported"):
        _tasks_json("--plan", "nope")


def _break(edited_plan: Any, mutate: Any) -> Path:
    def change(doc: dict[str, Any]) -> None:
        task = doc["programmes"][0]["sections"][1]["tasks"][0]  # P1.2.1
        mutate(task)

    path: Path = edited_plan(change)
    return path


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda t: t.update(lead_units=["市农业局"]),
         "tasks[0].lead_units[0]: task P1.2.1: unknown unit '市农业局'"),
        (lambda t: t.update(supporting_units=["市科协", "市不存在局"]),
         "tasks[0].supporting_units[1]: task P1.2.1: unknown unit '市不存在局'"),
        (lambda t: t.pop("lead_units"), "tasks[0].lead_units: task P1.2.1 has no lead unit"),
        (lambda t: t.update(lead_units=[]), "tasks[0].lead_units: task P1.2.1 has no lead unit"),
        (lambda t: t.update(indicators=["NO_SUCH"]), "task P1.2.1: unknown indicator 'NO_SUCH'"),
    ],
)
def test_bad_task_units_are_refused_naming_the_task_and_nothing_is_written(
    region: Any, edited_plan: Any, counts: Any, mutate: Any, message: str
) -> None:
    before = counts()
    tasks_before = (Task.objects.count(), TaskResponsibility.objects.count())
    with pytest.raises(InputError) as exc:
        plan_import(path=_break(edited_plan, mutate))
    assert any(message in e for e in exc.value.errors), exc.value.errors
    assert counts() == before
    assert (Task.objects.count(), TaskResponsibility.objects.count()) == tasks_before


@pytest.mark.django_db
def test_reimport_with_changed_units_updates_them_audited(plan: Any, edited_plan: Any) -> None:
    from kepu.core.models import AuditEntry

    path = _break(edited_plan, lambda t: t.update(supporting_units=["市科协"], open_list=False))
    plan_import(path=path)
    task = Task.objects.get(section__programme__plan=plan, code="P1.2.1")
    assert [d.name_zh for d in task.units("support")] == ["市科协"]
    assert not task.open_list
    entry = AuditEntry.objects.filter(action="task.units", object_id=str(task.pk)).latest("id")
    assert entry.changes["units"][1] == ["lead:市农业农村局", "support:市科协"]


def test_the_example_plan_gives_every_task_a_lead_unit() -> None:
    doc = yaml.safe_load((REPO / "data/plans/example-lakeside-2022-2030.yaml").read_text(encoding="utf-8"))
    _doc_checked, errors = read_plan(REPO / "data/plans/example-lakeside-2022-2030.yaml")
    assert errors == []
    assert all(t["lead_units"] for _s, t in _tasks(doc))


@pytest.mark.django_db
def test_plan_page_shows_each_tasks_text_with_lead_and_supporting_units(users: dict[str, Any]) -> None:
    from django.test import Client
    from django.utils import translation

    client = Client()
    client.force_login(users["edu"])
    with translation.override("zh-hans"):
        html = client.get("/plan/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    start = html.index('data-testid="task-P1.2.1"')
    item = html[start:html.index("</li>", start)]
    assert "加强农民技能培训。分层次开展农民职业技能" in item
    lead = item[item.index('data-testid="lead"'):item.index("</dd>", item.index('data-testid="lead"'))]
    support = item[item.index('data-testid="support"'):item.index("</dd>", item.index('data-testid="support"'))]
    assert "市农业农村局" in lead and "市教育局" not in lead
    assert "市妇联" in support and "市教育局" not in support and support.endswith("等</span>")
    assert "牵头单位" in item and "配合单位" in item
    # every task of the plan is listed
    assert html.count('data-testid="task-') == 78


@pytest.mark.django_db
def test_plan_texts_are_imported_and_shown(plan: Any, users: dict[str, Any]) -> None:
    from django.test import Client

    assert "城乡和区域之间发展差距显著缩小" in plan.texts["goals_2035_zh"]
    client = Client()
    client.force_login(users["viewer_wujin"])
    html = client.get("/plan/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    box = html[html.index('data-testid="plan-texts"'):html.index('<div class="card tree">')]
    assert "——突出价值引领。" in box and "公民具备科学素质比例力争达到21.5%,继续保持全省前列" in box
