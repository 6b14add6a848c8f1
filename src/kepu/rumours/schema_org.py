"""schema.org ClaimReview for a published debunk (Google's fact-check markup): the claim reviewed,
the rating (1 = false … 5 = true, with the verdict's words), the publishing organisation, the date,
the page and the claim's first appearance."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

from django.utils import timezone

from kepu.core.models import OrgUnit
from kepu.plans.derived import ancestor_at
from kepu.rumours.models import VERDICT_RATING, Debunk

REQUIRED = ("@context", "@type", "claimReviewed", "reviewRating", "author", "datePublished", "url", "itemReviewed")


def _organisation(debunk: Debunk, url: str) -> dict[str, Any]:
    city = ancestor_at(debunk.org_unit, OrgUnit.Level.CITY) or debunk.org_unit
    parts = urlsplit(url)
    return {"@type": "Organization", "name": f"{city.name_zh}科普 · 科学辟谣",
            "url": f"{parts.scheme}://{parts.netloc}/me/rumours/"}


def claim_review(debunk: Debunk, *, url: str, first_seen: dt.datetime | None = None, media: str = "") -> dict[str, Any]:
    published = timezone.localtime(debunk.published_at or timezone.now())
    appearance: dict[str, Any] = {"@type": "CreativeWork", "name": media or "网络传言"}
    if first_seen is not None:
        appearance["datePublished"] = timezone.localtime(first_seen).date().isoformat()
    review: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "url": url,
        "headline": debunk.title,
        "inLanguage": "zh-Hans",
        "claimReviewed": debunk.claim_text,
        "datePublished": published.date().isoformat(),
        "author": _organisation(debunk, url),
        "reviewRating": {
            "@type": "Rating",
            "ratingValue": VERDICT_RATING.get(debunk.verdict, 3),
            "bestRating": 5,
            "worstRating": 1,
            "alternateName": str(debunk.get_verdict_display()),
        },
        "itemReviewed": {
            "@type": "Claim",
            "appearance": [appearance],
            "firstAppearance": appearance,
        },
    }
    if first_seen is not None:
        review["itemReviewed"]["datePublished"] = timezone.localtime(first_seen).date().isoformat()
    if debunk.corrected_at is not None:
        review["dateModified"] = timezone.localtime(debunk.corrected_at).date().isoformat()
    return review
