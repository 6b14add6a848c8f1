"""Quiz pages. Citizens (/me/quiz/…): the daily question, the contests open to them and a play page
with one question per screen. Staff (/quiz/…): contests (create, leaderboards, abuse signals), quiz
item statistics and the daily-question export. Thin: parse input, call a service or selector, render."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from kepu.citizens.access import citizen_required
from kepu.core import ratelimit
from kepu.core.errors import InputError, PermissionDenied
from kepu.core.scope import actor, scope_for
from kepu.literacy.models import Item
from kepu.quiz import selectors, services
from kepu.quiz.config import limits
from kepu.quiz.models import Attempt, Contest


def _lang() -> str:
    return get_language() or "zh-hans"


def _options(item: Item) -> list[dict[str, str]]:
    """What a question page may carry: option letters and texts, never the key."""
    en = _lang().startswith("en")
    return [{"key": o["key"], "text": o["en"] if en else o["zh"]} for o in item.options]


def _answer_text(item: Item, response: Any) -> str:
    if item.type == "true_false":
        return _("正确") if response else _("错误")
    return "、".join(response) if isinstance(response, list) else str(response)


def _explanation(item: Item) -> str:
    return item.explanation_en if _lang().startswith("en") and item.explanation_en else item.explanation_zh


def _raw(request: HttpRequest) -> Any:
    raw: Any = request.POST.getlist("answer")
    return raw[0] if len(raw) == 1 else raw


def _refusal_status(exc: InputError) -> int:
    if isinstance(exc, services.RateLimited):
        return 429
    return 409 if isinstance(exc, services.AnswerRefused) else 422


# --- citizen pages --------------------------------------------------------------------------------


@citizen_required
def daily(request: HttpRequest) -> HttpResponse:
    citizen = request.citizen  # type: ignore[attr-defined]
    error, status = "", 200
    if request.method == "POST":
        try:
            services.daily_answer(citizen=citizen, raw=_raw(request), client=ratelimit.client_key(request))
            return redirect("quiz:daily")
        except InputError as exc:
            error, status = str(exc), _refusal_status(exc)
    try:
        question = services.daily_question(citizen=citizen)
    except InputError as exc:
        return render(request, "quiz/daily.html", {"empty": str(exc)})
    item, answer = question.item, question.answer
    context: dict[str, Any] = {
        "item": item, "stem": item.stem(_lang()), "multi": isinstance(item.key, list), "error": error,
        "dimension": item.get_dimension_display(), "points_today": selectors.points_today(citizen),
        "points_total": selectors.points_total(citizen), "cap": limits()["points_cap"],
    }
    if answer is None:
        context["options"] = _options(item)
    else:  # only now: the key and the explanation
        context.update(answer=answer, given=_answer_text(item, answer.response),
                       key=_answer_text(item, item.key), explanation=_explanation(item))
    return render(request, "quiz/daily.html", context, status=status)


@citizen_required
def contests(request: HttpRequest) -> HttpResponse:
    citizen = request.citizen  # type: ignore[attr-defined]
    rows = [(c, c.title(_lang()), selectors.attempts_today(c, citizen), selectors.best_attempt(c, citizen))
            for c in selectors.contests_open(citizen)]
    return render(request, "quiz/contests.html", {
        "rows": rows, "lang": _lang(), "points_total": selectors.points_total(citizen),
        "points_today": selectors.points_today(citizen), "cap": limits()["points_cap"],
    })


def _open_contest(request: HttpRequest, contest_id: int) -> Contest:
    contest = get_object_or_404(Contest.objects.select_related("org_unit"), pk=contest_id)
    if not selectors.may_enter(contest, request.citizen):  # type: ignore[attr-defined]
        raise Http404(_("没有这项竞赛。"))
    return contest


@citizen_required
def contest_home(request: HttpRequest, contest_id: int) -> HttpResponse:
    citizen = request.citizen  # type: ignore[attr-defined]
    contest = _open_contest(request, contest_id)
    error, status = "", 200
    if request.method == "POST":
        try:
            services.contest_start(contest=contest, citizen=citizen, client=ratelimit.client_key(request))
            return redirect("quiz:contest_play", contest.pk)
        except (InputError, PermissionDenied) as exc:
            error = str(exc)
            status = 429 if isinstance(exc, services.RateLimited) else 409
    today = selectors.attempts_today(contest, citizen)
    now = timezone.now()
    return render(request, "quiz/contest_home.html", {
        "contest": contest, "title": contest.title(_lang()), "today": today,
        "unfinished": bool(today and today[-1].finished_at is None),
        "left": max(0, contest.attempts_per_day - len(today)),
        "running": contest.starts_at <= now < contest.ends_at,
        "best": selectors.best_attempt(contest, citizen),
        "board": selectors.leaderboard(contest, language=_lang(), limit=10),
        "me": citizen.pk, "error": error,
    }, status=status)


def _current_attempt(request: HttpRequest, contest: Contest) -> Attempt | None:
    today = selectors.attempts_today(contest, request.citizen)  # type: ignore[attr-defined]
    return today[-1] if today else None


@citizen_required
def contest_play(request: HttpRequest, contest_id: int) -> HttpResponse:
    citizen = request.citizen  # type: ignore[attr-defined]
    contest = _open_contest(request, contest_id)
    attempt = _current_attempt(request, contest)
    if attempt is None:
        return redirect("quiz:contest", contest.pk)
    error, status = "", 200
    if request.method == "POST":
        try:
            position = int(request.POST.get("position", "-1"))
        except ValueError:
            position = -1
        try:
            done = services.contest_answer(attempt_id=attempt.pk, citizen=citizen, position=position,
                                           item_code=request.POST.get("item", ""), raw=_raw(request),
                                           client=ratelimit.client_key(request))
        except InputError as exc:
            error, status = str(exc), _refusal_status(exc)
        else:
            item = done.item
            return render(request, "quiz/contest_feedback.html", {
                "contest": contest, "answer": done.answer, "points": done.points, "stem": item.stem(_lang()),
                "given": _answer_text(item, done.answer.response), "key": _answer_text(item, item.key),
                "explanation": _explanation(item), "finished": done.attempt.finished_at is not None,
                "attempt": done.attempt, "total": len(done.attempt.item_codes),
            })
    shown = services.attempt_show(attempt_id=attempt.pk, citizen=citizen)
    if shown.item is None:
        return redirect("quiz:contest", contest.pk)
    item = shown.item
    return render(request, "quiz/contest_play.html", {
        "contest": contest, "attempt": shown.attempt, "item_code": item.code, "type": item.type,
        "stem": item.stem(_lang()), "multi": isinstance(item.key, list), "options": _options(item),
        "number": shown.attempt.position + 1, "total": len(shown.attempt.item_codes),
        "deadline": shown.attempt.shown_at + dt.timedelta(seconds=contest.seconds_per_question)
        if shown.attempt.shown_at else None,
        "error": error,
    }, status=status)


# --- staff pages ----------------------------------------------------------------------------------


def _staff(request: HttpRequest) -> Any:
    scope = scope_for(request.user)
    if not selectors.can_manage_any(scope):
        raise DjangoPermissionDenied(_("只有科普内容编辑和办公室管理员可以管理竞赛。"))
    return scope


def _contest_form(request: HttpRequest) -> dict[str, Any]:
    data: dict[str, Any] = request.POST.dict()
    data["key_groups"] = request.POST.getlist("key_groups")
    return data


@login_required
def staff_contests(request: HttpRequest) -> HttpResponse:
    scope = _staff(request)
    errors: list[str] = []
    units = list(selectors.manageable_units(scope))
    if request.method == "POST":
        unit = next((u for u in units if u.code == request.POST.get("org_unit")), None)
        try:
            if unit is None:
                raise InputError(_("请选择竞赛面向的地区。"))
            contest = services.contest_create(data=_contest_form(request), org_unit=unit, actor=actor(request),
                                              scope=scope)
            return redirect("quiz:staff_contest", contest.pk)
        except InputError as exc:
            errors = exc.errors
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(str(exc)) from exc
    now = timezone.localtime()
    defaults = {"starts_at": now.strftime("%Y-%m-%dT%H:%M"),
                "ends_at": (now + dt.timedelta(days=14)).strftime("%Y-%m-%dT%H:%M"),
                "question_count": 10, "seconds_per_question": 30, "attempts_per_day": 1, "prizes": 10}
    return render(request, "quiz/staff_contests.html", {
        "contests": selectors.contests_managed(scope), "units": units, "groups": selectors.KEY_GROUP_CHOICES,
        "errors": errors, "data": request.POST if request.method == "POST" else defaults,
        "chosen_groups": request.POST.getlist("key_groups"), "lang": _lang(), "now": timezone.now(),
    }, status=422 if errors else 200)


@login_required
def staff_contest(request: HttpRequest, contest_id: int) -> HttpResponse:
    scope = _staff(request)
    contest = get_object_or_404(selectors.contests_managed(scope), pk=contest_id)
    found = selectors.signals(contest)
    board = selectors.leaderboard(contest, language=_lang(), signals_=found)
    group_labels = dict(selectors.KEY_GROUP_CHOICES)
    return render(request, "quiz/staff_contest.html", {
        "contest": contest, "title": contest.title(_lang()),
        "board_rows": [(r, [selectors.flag_label(f) for f in r.flags]) for r in board],
        "towns": selectors.unit_leaderboard(contest, "town", language=_lang()),
        "districts": selectors.unit_leaderboard(contest, "district", language=_lang()),
        "signals": found, "flagged": [r for r in board if r.flags],
        "refusals": [(selectors.refusal_label(k), v) for k, v in sorted(found.refusals.items())],
        "groups": [str(group_labels.get(g, g)) for g in contest.key_groups],
        "limits": limits(), "attempts": contest.attempts.count(),
    })


@login_required
def staff_stats(request: HttpRequest) -> HttpResponse:
    _staff(request)
    rows = selectors.item_stats(language=_lang())
    return render(request, "quiz/staff_stats.html", {
        "rows": rows, "dimensions": selectors.dimension_stats(),
    })


def _feed_day(request: HttpRequest) -> dt.date:
    raw = request.GET.get("date", "")
    if not raw:
        return timezone.localdate()
    try:
        return dt.date.fromisoformat(raw)
    except ValueError as exc:
        raise Http404(_("日期格式应为 2026-05-01。")) from exc


@login_required
def staff_daily(request: HttpRequest) -> HttpResponse:
    _staff(request)
    day = _feed_day(request)
    items = selectors.daily_feed(day)
    rows = [(i, _answer_text(i, i.key)) for i in items]
    return render(request, "quiz/staff_daily.html", {"day": day, "rows": rows, "lang": _lang()})


@login_required
def staff_daily_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The day's published questions with keys and explanations, for other platforms to carry."""
    _staff(request)
    day = _feed_day(request)
    rows = selectors.feed_rows(selectors.daily_feed(day), with_keys=True)
    if fmt == "json":
        response: HttpResponse = JsonResponse({"date": day.isoformat(), "items": rows},
                                              json_dumps_params={"ensure_ascii": False, "indent": 1})
    elif fmt == "xlsx":
        response = HttpResponse(_feed_xlsx(rows), content_type="application/vnd.openxmlformats-officedocument"
                                ".spreadsheetml.sheet")
    else:
        raise Http404(_("只能导出 JSON 或 XLSX。"))
    response["Content-Disposition"] = f'attachment; filename="kepu-daily-{day.isoformat()}.{fmt}"'
    return response


def _feed_xlsx(rows: list[dict[str, Any]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "daily"
    ws.append(["code", "dimension", "type", "stem_zh", "stem_en", "options", "key", "explanation_zh",
               "explanation_en"])
    for r in rows:
        options = "\n".join(f"{o['key']}. {o['zh']} / {o['en']}" for o in r["options"])
        ws.append([r["code"], r["dimension"], r["type"], r["stem_zh"], r["stem_en"], options,
                   json.dumps(r["key"], ensure_ascii=False), r["explanation_zh"], r["explanation_en"]])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()

