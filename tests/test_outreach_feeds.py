"""Partner feeds (issue 9, point 1): RSS 2.0, Atom and JSON Feed files become draft resources, sanitised,
deduplicated on the entry id, all or nothing with each problem naming its entry, bounded in size and
entries. Recorded samples in tests/data/feeds/; nothing is fetched from the network."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from conftest import PASSWORD

pytestmark = pytest.mark.django_db

FEEDS = Path(__file__).parent / "data" / "feeds"


@pytest.fixture
def topics(region: Any) -> None:
    from kepu.outreach.models import Topic

    for code, name in (("health", "健康生活"), ("safety", "应急与安全"), ("digital", "数字生活")):
        Topic.objects.create(code=code, name_zh=name, name_en=code)


def source(code: str = "jskpy") -> Any:
    from kepu.outreach.models import FeedSource

    return FeedSource.objects.create(code=code, name_zh="江苏科普云", licence="CC BY-NC 4.0")


def run(name: str, src: Any = None, actor: Any = None) -> dict[str, int]:
    from kepu.outreach.feeds import feed_import

    return feed_import(source=src or source(), content=(FEEDS / name).read_bytes(), name=name, actor=actor)


def test_rss_entries_become_sanitised_drafts_and_a_second_import_skips_them(topics: Any) -> None:
    from kepu.core.models import AuditEntry
    from kepu.outreach.models import Resource

    src = source()
    assert run("science-cloud-rss.xml", src) == {"created": 3, "skipped": 0}
    drafts = {r.external_id: r for r in Resource.objects.all()}
    assert set(drafts) == {"jskpy-1001", "jskpy-1002", "https://science-cloud.example.org/a/1003"}
    assert {r.status for r in drafts.values()} == {"draft"}
    flu = drafts["jskpy-1001"]
    assert flu.title_zh == "秋冬季节如何预防流感" and flu.summary_zh == "接种疫苗、勤洗手、戴口罩。"
    assert "流感疫苗每年都要接种。" in flu.body_zh and "咳嗽时遮住口鼻" in flu.body_zh
    assert [t.code for t in flu.topics.all()] == ["health"]  # our code kept, the partner's own tag ignored
    assert (flu.source, flu.source_url, flu.licence) == ("江苏科普云", "https://science-cloud.example.org/a/1001",
                                                         "CC BY-NC 4.0")
    for r in drafts.values():
        for bad in ("<script", "onerror", "onmouseover", "javascript:"):
            assert bad not in r.body_zh
    assert run("science-cloud-rss.xml", src) == {"created": 0, "skipped": 3}
    assert Resource.objects.count() == 3
    assert AuditEntry.objects.filter(action="feed.import").count() == 2


def test_atom_feed(topics: Any) -> None:
    from kepu.outreach.models import Resource

    assert run("museum-atom.xml", source("czstm")) == {"created": 2, "skipped": 0}
    night = Resource.objects.get(external_id="urn:example:czstm:event:88")
    assert night.title_zh == "周末天文观测夜" and "<iframe" not in night.body_zh and "天文台开放" in night.body_zh
    assert night.source_url == "https://museum.example.org/events/88"


def test_json_feed_with_kepu_extension(topics: Any) -> None:
    from kepu.outreach.models import Resource

    assert run("science-cloud.json") == {"created": 2, "skipped": 0}
    scam = Resource.objects.get(external_id="jskpy-2001")
    assert (scam.title_en, scam.key_groups, scam.age_bands, scam.benchmarks, scam.dimensions) == (
        "Spotting health-product scams", ["elderly"], ["60-69", "70+"], [17], ["application"])
    assert [t.code for t in scam.topics.all()] == ["safety"]
    assert scam.body_zh == "<p>保健品不能代替药品。</p><p>遇到免费讲座送礼品，要多问一句：谁在买单？</p>"
    steps = Resource.objects.get(external_id="jskpy-2002")
    assert "<ol><li>打开医院公众号</li>" in steps.body_zh and "<style" not in steps.body_zh


def test_feed_import_is_all_or_nothing_and_names_each_bad_entry(topics: Any) -> None:
    from kepu.core.errors import InputError
    from kepu.outreach.models import Resource

    with pytest.raises(InputError) as exc:
        run("broken-entry.json")
    errors = exc.value.errors
    assert len(errors) == 2
    assert "broken-entry.json 第 2 条（bad-2）" in errors[0] and "title_zh" in errors[0]
    assert "broken-entry.json 第 3 条（bad-3）" in errors[1] and "no-such-topic" in errors[1]
    assert Resource.objects.count() == 0  # not even the good first entry


@pytest.mark.parametrize("content", [b"<rss><channel><item><title>x", b"{\"items\": 3}", b"{not json"])
def test_malformed_files_are_refused_with_their_name(topics: Any, content: bytes) -> None:
    from kepu.core.errors import InputError
    from kepu.outreach.feeds import feed_import
    from kepu.outreach.models import Resource

    with pytest.raises(InputError, match=r"bad\.feed"):
        feed_import(source=source(), content=content, name="bad.feed", actor=None)
    assert Resource.objects.count() == 0


def test_size_and_entry_limits(topics: Any, settings: Any) -> None:
    from kepu.core.errors import InputError
    from kepu.outreach.models import Resource

    settings.KEPU_UPLOAD_LIMITS = {"outreach": {"max_bytes": 1000}}
    with pytest.raises(InputError, match="上限"):
        run("science-cloud-rss.xml")
    settings.KEPU_UPLOAD_LIMITS = {"outreach": {"max_rows": 2}}
    with pytest.raises(InputError, match="3 条"):
        run("science-cloud-rss.xml", source("other"))
    assert Resource.objects.count() == 0


def test_feed_import_command(topics: Any) -> None:
    from kepu.outreach.models import FeedSource, Resource

    call_command("outreach", "feed", "import", str(FEEDS / "science-cloud.json"), "--source", "cloud",
                 "--name", "省科普云")
    assert FeedSource.objects.get(code="cloud").name_zh == "省科普云"
    assert Resource.objects.filter(feed_source__code="cloud", status="draft").count() == 2
    with pytest.raises(CommandError, match="bad-2"):
        call_command("outreach", "feed", "import", str(FEEDS / "broken-entry.json"), "--source", "cloud")


def test_feed_upload_page_for_city_editors_only(topics: Any, make_user: Any, settings: Any) -> None:
    from kepu.outreach.models import Resource

    make_user("editor", ("editor", "320400", None))
    make_user("wujin_editor", ("editor", "320412", None))
    district = Client()
    district.login(username="wujin_editor", password=PASSWORD)
    upload = SimpleUploadedFile("museum-atom.xml", (FEEDS / "museum-atom.xml").read_bytes())
    assert district.post("/outreach/resources/feeds/", {"source": "czstm", "file": upload}).status_code == 403
    assert Resource.objects.count() == 0
    city = Client()
    city.login(username="editor", password=PASSWORD)
    assert city.get("/outreach/resources/feeds/").status_code == 200
    upload = SimpleUploadedFile("museum-atom.xml", (FEEDS / "museum-atom.xml").read_bytes())
    done = city.post("/outreach/resources/feeds/", {"source": "czstm", "name": "常州科技馆", "file": upload})
    assert done.status_code == 302
    assert Resource.objects.filter(status="draft", author__username="editor").count() == 2
    bad = SimpleUploadedFile("broken-entry.json", (FEEDS / "broken-entry.json").read_bytes())
    page = city.post("/outreach/resources/feeds/", {"source": "czstm", "file": bad})
    assert page.status_code == 200 and "bad-2" in page.content.decode()
