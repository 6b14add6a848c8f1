"""The public online self-test (mobile first): intro and profile, one question per page, result.

The browser's link to its test is a random token in a signed, HTTP-only cookie scoped to /test/:
page addresses carry no token, so an access log cannot tie a person's address to a respondent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language

from kepu.core import ratelimit
from kepu.core.errors import InputError
from kepu.core.models import OrgUnit
from kepu.literacy import online
from kepu.literacy.models import DIMENSIONS, Dimension, TestSession
from kepu.literacy.people import EDUCATION, OCCUPATIONS
from kepu.plans.selectors import plan_default

COOKIE = "kepu_selftest"
COOKIE_SALT = "kepu.literacy.selftest"
COOKIE_AGE = timedelta(days=1)  # the result stays viewable for a day


def _lang() -> str:
    return get_language() or "zh-hans"


def _units() -> tuple[list[tuple[OrgUnit, list[OrgUnit]]], dict[str, OrgUnit], dict[str, OrgUnit]]:
    plan = plan_default()
    region = plan.region if plan else OrgUnit.objects.filter(level="city").first()
    districts = list(OrgUnit.objects.filter(parent=region, level="district", valid_to__isnull=True).order_by("sort"))
    towns = list(
        OrgUnit.objects.filter(parent__in=districts, level="town", valid_to__isnull=True).order_by("sort", "code")
    )
    grouped = [(d, [t for t in towns if t.parent_id == d.pk]) for d in districts]
    return grouped, {d.code: d for d in districts}, {t.code: t for t in towns}


def _token(request: HttpRequest) -> str:
    return request.get_signed_cookie(COOKIE, default="", salt=COOKIE_SALT, max_age=COOKIE_AGE) or ""


def _session(request: HttpRequest) -> TestSession | None:
    try:
        return online.session_get(_token(request))
    except InputError:
        return None


def test_start(request: HttpRequest) -> HttpResponse:
    grouped, by_code, towns = _units()
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        profile, errors = online.profile_errors(request.POST.dict(), by_code, towns)
        status = 422
        if profile is not None:
            client = ratelimit.client_key(request)
            try:
                online.start_allowed(client)
                _session_row, token = online.test_start(profile=profile, client=client, language=_lang())
            except online.RateLimited as exc:
                errors["form"], status = str(exc), 429
            except InputError as exc:
                errors["form"] = str(exc)
            else:
                response = redirect("literacy:test_question")
                response.set_signed_cookie(
                    COOKIE, token, salt=COOKIE_SALT, max_age=COOKIE_AGE, path=reverse("literacy:test_start"),
                    secure=settings.SESSION_COOKIE_SECURE, httponly=True, samesite="Lax",
                )
                return response
    limits = online.limits()
    return render(
        request,
        "literacy/test_start.html",
        {
            "districts": grouped,
            "errors": errors,
            "education": EDUCATION,
            "occupations": OCCUPATIONS,
            "data": request.POST,
            "lang": _lang(),
            "questions": online.question_count(),
            "minutes": limits["time_limit_minutes"],
            "reviews": limits["reviews_per_day"],
        },
        status=status,
    )


def test_question(request: HttpRequest) -> HttpResponse:
    session = _session(request)
    if session is None:
        return redirect("literacy:test_start")
    token = _token(request)
    error, status = "", 200
    if request.method == "POST" and session.finished_at is None:
        raw: Any = request.POST.getlist("answer")
        if len(raw) == 1:
            raw = raw[0]
        try:
            session = online.test_answer(token=token, item_code=request.POST.get("item", ""), raw=raw,
                                         client=ratelimit.client_key(request))
            return redirect("literacy:test_result" if session.finished_at else "literacy:test_question")
        except online.RateLimited as exc:
            error, status = str(exc), 429
        except InputError as exc:
            error, status = str(exc), 422
        session = online.session_get(token)
    if session.finished_at is None and online.is_expired(session):
        session = online.test_expire(token=token)
    if session.finished_at is not None:
        return redirect("literacy:test_result")
    item = online.current_item(session)
    assert item is not None
    online.question_shown(session)
    # Only what the page needs: never the key, never the explanation before answering.
    options = [{"key": o["key"], "text": o["en"] if _lang().startswith("en") else o["zh"]} for o in item.options]
    return render(
        request,
        "literacy/test_question.html",
        {
            "session": session,
            "item_code": item.code,
            "item_type": item.type,
            "stem": item.stem(_lang()),
            "multi": isinstance(item.key, list),
            "options": options,
            "number": session.position + 1,
            "answered": session.position,
            "total": len(session.item_codes),
            "error": error,
            "lang": _lang(),
        },
        status=status,
    )


def test_result(request: HttpRequest) -> HttpResponse:
    session = _session(request)
    if session is None:
        return redirect("literacy:test_start")
    if session.finished_at is None:
        return redirect("literacy:test_question")
    r = session.respondent
    lang = _lang()
    dims = [
        (
            Dimension(d).label,
            r.earned.get(d, 0),
            r.possible.get(d, 0),
            round(100 * r.earned.get(d, 0) / r.possible[d]) if r.possible.get(d) else None,
        )
        for d in DIMENSIONS
    ]
    unanswered = len(session.item_codes) - session.answers.count()
    linked = online.result_kept(request.user, session)
    return render(
        request,
        "literacy/test_result.html",
        {"r": r, "tier": online.tier_text(r, lang), "session": session, "dims": dims,
         "lines": online.result_lines(session, lang),
         "unanswered": unanswered, "lang": lang, "linked": linked},
    )
