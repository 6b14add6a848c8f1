"""The demo's catalogue: the starter set (data/outreach/, written for the project) published, and two
drafts in the review queue, one by each demo editor, so each has someone else's piece to review."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction

from kepu.outreach import services
from kepu.outreach.content_import import content_import
from kepu.outreach.models import Resource

DRAFTS = [
    ("editor", {
        "code": "demo-draft-winter-heating", "kind": "article", "title_zh": "冬季取暖防一氧化碳中毒",
        "title_en": "Heating safely in winter: carbon monoxide",
        "summary_zh": "燃气热水器、炭火盆用在密闭房间里，可能让人在不知不觉中中毒。",
        "body_zh": "<p>一氧化碳无色无味，中毒初期只是头痛、乏力，很容易被当成感冒。</p>"
                   "<p>用炭火取暖一定要开窗通风；燃气热水器不要装在浴室里。家里可以装一个一氧化碳报警器。</p>",
        "topics": ["safety"], "dimensions": ["application"], "key_groups": ["elderly", "farmers"],
        "source": "Kepu 原创", "licence": "CC BY 4.0",
    }),
    ("editor2", {
        "code": "demo-draft-rice-straw", "kind": "article", "title_zh": "秸秆还田有什么好处",
        "title_en": "Why plough straw back into the field",
        "summary_zh": "秸秆不焚烧、还到田里，能改良土壤，也能少用化肥。",
        "body_zh": "<p>焚烧秸秆污染空气，还会烧掉土壤表层的有机质。</p>"
                   "<p>粉碎后还田，配合适量氮肥，来年土壤更松软。</p>",
        "topics": ["agriculture"], "dimensions": ["knowledge"], "key_groups": ["farmers"],
        "source": "Kepu 原创", "licence": "CC BY 4.0",
    }),
]  # fmt: skip


def catalogue_demo() -> str:
    counts = content_import(path=settings.REPO_DIR / "data" / "outreach" / "content", publish=True)
    made = 0
    with transaction.atomic():
        for username, data in DRAFTS:
            author = User.objects.filter(username=username).first()
            if author is not None and not Resource.objects.filter(code=data["code"]).exists():
                services.resource_create(actor=author, data=data)
                made += 1
    published = Resource.objects.filter(status=Resource.Status.PUBLISHED).count()
    return (f"Outreach catalogue: {published} published pieces ({counts['created']} new, {counts['updated']} "
            f"updated), {made} demo draft(s) waiting for review.")
