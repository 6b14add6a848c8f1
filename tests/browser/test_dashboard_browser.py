"""Issue 6, points 1–4 in a real browser on the demo data: what each role reads on the dashboard
and the target pages, and how the charts come out."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEVELOPER_TEXT = re.compile(r"\b[a-z]+_[a-z_]+\b|\b[a-z]+\.[a-z_]+\b|\b[A-Z][A-Za-z]+\(|\[—, —\]|\d\.\d+ ?次")
ALLOWED_WORDS = {"Kepu", "English", "PDF", "Excel", "Kish"}
DISTRICTS = ["天宁区", "钟楼区", "新北区", "武进区", "金坛区", "溧阳市", "常州经济开发区"]


@pytest.fixture
def demo(plan: Any) -> Any:
    from kepu.plans.demo import DEMO_PASSWORD, demo_generate

    demo_generate(plan=plan)
    return DEMO_PASSWORD


def _developer_text(page: Any) -> list[str]:
    text = page.locator("body").inner_text()
    for name in ("office", "wujin", "xinbei", "edu", "viewer", "reviewer", "office2", "agri", "meteo",
                 "editor", "editor2", "campaigner"):
        text = re.sub(rf"(?<![A-Za-z_]){name}(?![A-Za-z_])", " ", text)
    found = DEVELOPER_TEXT.findall(text)
    return found + [w for w in re.findall(r"[A-Za-z]{3,}", text) if w not in ALLOWED_WORDS]


def _chart(page: Any, element_id: str, expression: str) -> Any:
    page.wait_for_selector(f"#{element_id}[data-rendered='1']")
    return page.evaluate(f"() => {{ const c = echarts.getInstanceByDom(document.getElementById('{element_id}'));"
                         f" return {expression}; }}")


def test_district_reporter_sees_their_district(demo: str, login: Any, live_server: Any) -> None:
    page = login("wujin", demo)
    # The headline is 武进区's literacy rate, not "—"
    headline = page.get_by_test_id("headline-value").inner_text()
    assert re.fullmatch(r"\d+\.\d%", headline), headline
    assert "武进区" in page.locator(".kpi").first.inner_text()
    # The counters add up to 武进区's targets, with its allocation beside each city target
    counts = sum(int(page.get_by_test_id(f"count-{k}").locator(".n").inner_text())
                 for k in ("met", "on_track", "at_risk", "off_track"))
    allocated = page.get_by_test_id("own-allocation").count()
    assert counts <= allocated and allocated >= 15
    assert "本区分解" in page.locator('tr[data-target="T06"]').inner_text()
    # The trend is 武进区's own series with CI bars drawn
    names = _chart(page, "trend", "c.getOption().series.map(s => s.name)")
    assert names[0] == "武进区" and "95% 置信区间" in names
    assert _developer_text(page) == []
    shot(page, "dashboard-district")
    phone = login("wujin", demo, width=390)
    assert re.fullmatch(r"\d+\.\d%", phone.get_by_test_id("headline-value").inner_text())
    shot(phone, "dashboard-district-phone")


def test_charts_are_readable(demo: str, login: Any, live_server: Any) -> None:
    page = login("office", demo)
    # Full unit names on the comparison, bars from 0, legend entries as drawn
    labels = page.evaluate("() => Array.from(document.querySelectorAll('#compare svg text')).map(t => t.textContent)")
    assert "常州经济开发区" in labels
    assert _chart(page, "compare", "c.getModel().getComponent('xAxis').axis.scale.getExtent()[0]") == 0
    legend = _chart(page, "compare", "c.getOption().legend[0].data")
    drawn = _chart(page, "compare", "c.getOption().series.map(s => s.name)")
    assert [x if isinstance(x, str) else x["name"] for x in legend] == drawn
    # CI bars inside the trend's plotted range
    extent = _chart(page, "trend", "c.getModel().getComponent('yAxis').axis.scale.getExtent()")
    ci = _chart(page, "trend", "c.getOption().series.find(s => s.type === 'custom').data")
    assert extent[0] <= min(r[1] for r in ci) and extent[1] >= max(r[2] for r in ci)
    shot(page, "dashboard-office")
    # T01: the city highlighted, districts off until clicked in the legend
    page.goto(f"{live_server.url}/targets/T01/")
    selected = _chart(page, "chart", "c.getOption().legend[0].selected")
    assert all(selected.get(d) is False for d in DISTRICTS)
    shot(page, "target-T01-office")
    page.locator("#chart svg text", has_text="武进区").first.click()
    assert _chart(page, "chart", "c.getOption().legend[0].selected")["武进区"] is True
    shot(page, "target-T01-wujin-shown")


@pytest.mark.parametrize("username", ["office", "wujin", "edu", "viewer"])
def test_pages_read_in_chinese_for_each_role(demo: str, login: Any, live_server: Any, username: str) -> None:
    page = login(username, demo)
    found = {}
    for url in ["/", "/plan/", "/audit/", "/targets/T01/", "/targets/T06/", "/targets/T21/", "/targets/T17/"]:
        page.goto(f"{live_server.url}{url}")
        found[url] = _developer_text(page)
        assert "[—, —]" not in page.content()
        if url == "/":
            shot(page, f"dashboard-{username}")
    assert {k: v for k, v in found.items() if v} == {}
    page.goto(f"{live_server.url}/targets/T06/")
    assert "年度目标：每年单独判断" in page.get_by_test_id("status-rule").inner_text()
    shot(page, f"target-T06-{username}")
