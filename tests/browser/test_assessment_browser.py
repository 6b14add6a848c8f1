"""Issue 6, point 10 in a real browser: the office asks for the annual assessment in Chinese and in
English from the assessment page, downloads each, and finds both listed with who asked and when."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from pypdf import PdfReader

from tests.browser.conftest import shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


@pytest.fixture
def demo(plan: Any) -> Any:
    from kepu.plans.demo import DEMO_PASSWORD, demo_generate

    demo_generate(plan=plan)
    return DEMO_PASSWORD


def _generate(page: Any, fmt: str, lang: str) -> tuple[str, bytes]:
    page.select_option("select[name=fmt]", fmt)
    page.select_option("select[name=lang]", lang)
    with page.expect_download() as download:
        page.get_by_test_id("assessment-form").locator("button[type=submit]").click()
    path = download.value.path()
    return download.value.suggested_filename, open(path, "rb").read()


def test_office_generates_chinese_and_english_reports_and_finds_them_listed(demo: str, login: Any,
                                                                             live_server: Any) -> None:
    from kepu.plans.models import Plan

    plan = Plan.objects.get()
    page = login("office", demo)
    page.locator("nav").get_by_text("年度评估").click()
    page.wait_for_url(f"{live_server.url}/assessment/")
    year = page.locator("select[name=year]").input_value()

    name, content = _generate(page, "pdf", "zh-hans")
    assert name == f"kepu-assessment-{plan.code}-{year}.pdf"
    first = PdfReader(io.BytesIO(content)).pages[0].extract_text()
    assert "常州市全民科学素质工作领导小组办公室" in first and "年度辖市（区）目标任务评估报告" in first

    page.goto(f"{live_server.url}/assessment/")
    name, content = _generate(page, "pdf", "en")
    assert name == f"kepu-assessment-{plan.code}-{year}-en.pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)
    assert "Annual Assessment of Districts" in text and not CJK.search(text)

    page.goto(f"{live_server.url}/assessment/")
    rows = page.get_by_test_id("assessment-reports").locator("tbody tr")
    assert rows.count() == 2
    newest, oldest = rows.nth(0).inner_text(), rows.nth(1).inner_text()
    for row, language in ((newest, "英文"), (oldest, "中文")):
        assert year in row and "PDF" in row and language in row and "已完成" in row and "下载" in row
        assert "市科学素质办 管理员" in row and re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", row)
    shot(page, "assessment-office")
