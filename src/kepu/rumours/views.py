"""Pages of the rumours app. Public and citizen side under /me/rumours/ (report a rumour, published
debunks with ClaimReview JSON-LD, the monthly list); staff side under /rumours/ (claims, triage,
debunk workflow, monitoring, partners). Thin: the rules live in services and selectors."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core import signing
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from kepu.core import ratelimit
from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import OrgUnit
from kepu.core.scope import actor, scope_for
from kepu.rumours import monitoring, selectors, services
from kepu.rumours.models import MEDIA_SUGGESTIONS, TOPIC_LABELS, TOPICS, Claim, Debunk, Partner, Verdict
from kepu.rumours.schema_org import claim_review

View = Callable[..., HttpResponse]
FORM_BODY_LIMIT = 64 * 1024
MIN_FILL_SECONDS = 3  # a person needs longer than this to type a rumour; scripts post at once
MAX_FILL_SECONDS = 24 * 3600
FORM_SALT = "kepu.rumours.report-form"


def _citizen(request: HttpRequest) -> Any | None:
    from kepu.citizens.selectors import citizen_of

    return citizen_of(request.user)


def guarded(view: View) -> View:
    """Staff pages: log in; scope refusals from the services become 403 pages."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(str(exc)) from exc

    return login_required(wrapper)


def bounded_post(limit: int) -> Callable[[View], View]:
    """Refuse a POST body over `limit` bytes with 413 before anything reads it (CSRF is checked after
    the size, by the same middleware code, so a huge body is never parsed)."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method == "POST":
                try:
                    length = int(request.META.get("CONTENT_LENGTH") or 0)
                except ValueError:
                    length = limit + 1
                if length > limit:
                    return render(request, "rumours/too_large.html", {"limit_kb": limit // 1024}, status=413)
                refusal = CsrfViewMiddleware(lambda r: HttpResponse()).process_view(request, view, args, kwargs)
                if refusal is not None:
                    return refusal
            return view(request, *args, **kwargs)

        return csrf_exempt(wrapper)

    return decorate


def _districts() -> list[OrgUnit]:
    return list(OrgUnit.objects.filter(level=OrgUnit.Level.DISTRICT, parent__level=OrgUnit.Level.CITY)
                .order_by("parent__code", "sort", "code"))


def _form_stamp() -> str:
    return signing.dumps(time.time(), salt=FORM_SALT)


def _stamp_age(value: str) -> float | None:
    try:
        started = float(signing.loads(value, salt=FORM_SALT, max_age=MAX_FILL_SECONDS))
    except (signing.BadSignature, TypeError, ValueError):
        return None
    return time.time() - started


# -- public and citizen pages -----------------------------------------------------------------------

@never_cache
@bounded_post(FORM_BODY_LIMIT)
@require_http_methods(["GET", "POST"])
def report(request: HttpRequest) -> HttpResponse:
    """Report a rumour. A logged-in citizen gets the answer in their inbox; anyone else may report too
    (no name or phone asked) and finds answers on the public list."""
    citizen = _citizen(request)
    if request.user.is_authenticated and citizen is None:
        raise DjangoPermissionDenied(_("工作人员请在“谣言线索”页面录入线索。"))
    error, status = "", 200
    data: Any = {"district": citizen.district.code if citizen is not None and citizen.district else ""}
    if request.method == "POST":
        data = request.POST
        age = _stamp_age(data.get("started", ""))
        if data.get("website") or age is None or not MIN_FILL_SECONDS <= age <= MAX_FILL_SECONDS:
            error = _("提交未被接受：请在本页正常填写后再提交（填写太快或表单已过期时也会这样，请刷新页面重填）。")
            status = 400
        elif not services.form_allowed(client=ratelimit.client_key(request), citizen=citizen):
            error, status = _("提交次数太多了，请稍后再试。"), 429
        else:
            unit = OrgUnit.objects.filter(code=data.get("district", ""), level=OrgUnit.Level.DISTRICT).first()
            try:
                intake = services.claim_submit(
                    text=data.get("text", ""), media=data.get("media", ""), topic=data.get("topic", ""),
                    source=Claim.Source.CITIZEN if citizen is not None else Claim.Source.PUBLIC_FORM,
                    org_unit=unit, citizen=citizen, client=ratelimit.client_key(request),
                )
            except InputError as exc:
                error, status = str(exc), 422
            else:
                request.session["rumour_reported"] = intake.claim.pk
                return redirect("rumours:report_done")
    return render(request, "rumours/report.html", {
        "citizen": citizen, "districts": _districts(), "topics": TOPICS, "media": MEDIA_SUGGESTIONS,
        "data": data, "error": error, "started": _form_stamp(),
    }, status=status)


@never_cache
def report_done(request: HttpRequest) -> HttpResponse:
    claim = Claim.objects.select_related("debunk").filter(pk=request.session.get("rumour_reported") or 0).first()
    debunk = claim.debunk if claim is not None and claim.debunk is not None and claim.debunk.is_public else None
    return render(request, "rumours/report_done.html", {"citizen": _citizen(request), "debunk": debunk})


def public_list(request: HttpRequest) -> HttpResponse:
    items = list(selectors.published_debunks()[:50])
    return render(request, "rumours/public_list.html", {"items": items, "topics": TOPIC_LABELS})


def public_detail(request: HttpRequest, debunk_id: int) -> HttpResponse:
    debunk = selectors.published_debunks().filter(pk=debunk_id).first()
    if debunk is None:
        raise Http404
    url = request.build_absolute_uri(reverse("rumours:public_detail", args=[debunk.pk]))
    first = Claim.objects.filter(debunk=debunk).order_by("received_at").first()
    review = claim_review(debunk, url=url, first_seen=first.received_at if first else None,
                          media=first.media if first else "")
    return render(request, "rumours/public_detail.html", {
        "d": debunk, "revisions": list(debunk.revisions.all()),
        "jsonld": json.dumps(review, ensure_ascii=False).replace("<", "\\u003c"),
        "topic": TOPIC_LABELS.get(debunk.topic, ""),
    })


def _month(request: HttpRequest) -> tuple[int, int]:
    raw = request.GET.get("month", "")
    try:
        year, month = (int(p) for p in raw.split("-"))
        dt.date(year, month, 1)
    except ValueError:
        today = timezone.localdate()
        return today.year, today.month
    return year, month


def _month_nav(year: int, month: int) -> dict[str, str]:
    prev = dt.date(year, month, 1) - dt.timedelta(days=1)
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    return {"prev": prev.strftime("%Y-%m"), "next": nxt.strftime("%Y-%m") if nxt <= timezone.localdate() else "",
            "label": _("%(y)s 年 %(m)s 月") % {"y": year, "m": month}}


def public_monthly(request: HttpRequest) -> HttpResponse:
    year, month = _month(request)
    rows = selectors.monthly_top(Claim.objects.all(), year=year, month=month)
    return render(request, "rumours/public_monthly.html", {"rows": rows, "nav": _month_nav(year, month)})


# -- staff: claims ----------------------------------------------------------------------------------

def _staff(request: HttpRequest) -> User:
    user = actor(request)
    if not (selectors.is_staff_reader(user) or selectors.debunks_visible(user).exists()
            or selectors._reviews_as_expert(user)):
        raise DjangoPermissionDenied(_("只有工作人员和专家可以使用科学辟谣工作台。"))
    return user


@guarded
def claims(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    status = request.GET.get("status", "new")
    qs = selectors.claims_visible(user)
    if status in Claim.Status.values:
        qs = qs.filter(status=status)
    rows = list(qs.order_by("-dup_count", "-last_seen_at")[:200])
    return render(request, "rumours/claims.html", {
        "rows": rows, "status": status, "statuses": Claim.Status.choices, "manages": selectors.manages_any(user),
        "topics": TOPIC_LABELS,
    })


@guarded
@require_http_methods(["GET", "POST"])
def claim_new(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    if not selectors.manages_any(user):
        raise DjangoPermissionDenied(_("只有编辑、辖市（区）管理员和办公室管理员可以录入谣言线索。"))
    units = selectors.managed_units(user)
    error, data = "", request.POST if request.method == "POST" else {}
    if request.method == "POST":
        unit = units.filter(pk=data.get("org_unit") or 0).first() if str(data.get("org_unit", "")).isdigit() else None
        try:
            if unit is None:
                raise InputError(_("所属地区：请选择您负责的辖市（区）或镇（街道）。"))
            intake = services.claim_enter(actor=user, text=data.get("text", ""), org_unit=unit,
                                          media=data.get("media", ""), topic=data.get("topic", ""))
        except InputError as exc:
            error = str(exc)
        else:
            messages.success(request, _("已记录。") if intake.created else _("这条说法已有记录，已计入次数。"))
            return redirect("rumours:claims")
    return render(request, "rumours/claim_form.html", {
        "units": units, "topics": TOPICS, "media": MEDIA_SUGGESTIONS, "data": data, "error": error,
    }, status=422 if error else 200)


@guarded
@require_POST
def claim_triage(request: HttpRequest) -> HttpResponse:
    """From the queue: start a debunk for the chosen claims, or dismiss them."""
    user = actor(request)
    ids = [int(i) for i in request.POST.getlist("claim") if i.isdigit()]
    chosen = list(selectors.claims_visible(user).filter(pk__in=ids).order_by("-dup_count", "pk"))
    if not chosen:
        messages.error(request, _("请至少选择一条谣言线索。"))
        return redirect("rumours:claims")
    try:
        if request.POST.get("action") == "dismiss":
            for c in chosen:
                services.claim_dismiss(actor=user, claim=c, reason=request.POST.get("reason", ""))
            messages.success(request, _("已标记为不予处理。"))
            return redirect("rumours:claims")
        debunk = services.debunk_open(actor=user, claims=chosen)
    except InputError as exc:
        messages.error(request, str(exc))
        return redirect("rumours:claims")
    return redirect("rumours:debunk", debunk.pk)


# -- staff: debunks ---------------------------------------------------------------------------------

@guarded
def debunks(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    rows = list(selectors.debunks_visible(user).order_by("status", "-pk")[:200])
    mine = [d for d in rows if d.expert_id == user.pk and d.status in ("assigned", "draft")]
    to_review = [d for d in rows if d.status == Debunk.Status.IN_REVIEW and selectors.may_review(user, d)
                 and user.pk not in (d.author_id, d.expert_id)]
    return render(request, "rumours/debunks.html", {"rows": rows, "mine": mine, "to_review": to_review})


def _debunk_for(user: User, debunk_id: int) -> Debunk:
    debunk = selectors.debunks_visible(user).filter(pk=debunk_id).first()
    if debunk is None:
        raise Http404
    return debunk


@guarded
def debunk_detail(request: HttpRequest, debunk_id: int) -> HttpResponse:
    user = _staff(request)
    d = _debunk_for(user, debunk_id)
    manages = scope_for(user).covers(d.org_unit, services.MANAGE_ROLES)
    return render(request, "rumours/debunk_detail.html", {
        "d": d, "claims": list(Claim.objects.filter(debunk=d).select_related("district").order_by("-dup_count")[:50]),
        "experts": selectors.expert_choices() if manages else [],
        "manages": manages,
        "may_edit": (d.expert_id == user.pk or manages) and d.status in ("triage", "assigned", "draft"),
        "may_review": d.status == "in_review" and selectors.may_review(user, d)
        and user.pk not in (d.author_id, d.expert_id),
        "may_correct": d.is_public and scope_for(user).covers(d.org_unit, services.REVIEW_ROLES),
        "revisions": list(d.revisions.all()), "verdicts": Verdict.choices,
        "topic": TOPIC_LABELS.get(d.topic, ""),
    })


@guarded
@require_POST
def debunk_action(request: HttpRequest, debunk_id: int) -> HttpResponse:
    user = _staff(request)
    d = _debunk_for(user, debunk_id)
    action = request.POST.get("action", "")
    try:
        if action == "assign":
            expert = User.objects.filter(pk=int(request.POST.get("expert") or 0)).first() \
                if str(request.POST.get("expert", "")).isdigit() else None
            if expert is None:
                raise InputError(_("专家：请选择一位专家。"))
            services.debunk_assign(actor=user, debunk=d, expert=expert)
            messages.success(request, _("已分派专家。"))
        elif action == "submit":
            services.debunk_submit(actor=user, debunk=d)
            messages.success(request, _("已送审。"))
        elif action == "publish":
            services.debunk_publish(actor=user, debunk=d)
            messages.success(request, _("已发布。反映过该说法的市民会在消息中收到答复。"))
        elif action == "return":
            services.debunk_return(actor=user, debunk=d, comment=request.POST.get("comment", ""))
            messages.success(request, _("已退回修改。"))
        elif action == "correct":
            services.debunk_correct(actor=user, debunk=d, note=request.POST.get("note", ""),
                                    verdict=request.POST.get("verdict") or None,
                                    explanation=request.POST.get("explanation") or None)
            messages.success(request, _("已更正，更正说明已公开显示。"))
        else:
            raise InputError(_("未知的操作。"))
    except (InputError, PermissionDenied) as exc:
        messages.error(request, str(exc))
    return redirect("rumours:debunk", d.pk)


@guarded
@require_http_methods(["GET", "POST"])
def debunk_edit(request: HttpRequest, debunk_id: int) -> HttpResponse:
    user = _staff(request)
    d = _debunk_for(user, debunk_id)
    error = ""
    if request.method == "POST":
        p = request.POST
        try:
            services.debunk_draft_save(
                actor=user, debunk=d, title=p.get("title", ""), claim_text=p.get("claim_text", ""),
                verdict=p.get("verdict", ""), explanation=p.get("explanation", ""), evidence=p.get("evidence", ""),
                sources=services.parse_sources(p.get("sources", "")), topic=p.get("topic", ""),
            )
        except (InputError, PermissionDenied) as exc:
            error = str(exc)
        else:
            if p.get("then") == "submit":
                try:
                    services.debunk_submit(actor=user, debunk=d)
                except InputError as exc:
                    messages.error(request, str(exc))
                else:
                    messages.success(request, _("已保存并送审。"))
                    return redirect("rumours:debunk", d.pk)
            else:
                messages.success(request, _("草稿已保存。"))
            return redirect("rumours:debunk_edit", d.pk)
    sources = "\n".join(f"{s.get('title', '')} {s.get('url', '')}".strip() for s in d.sources)
    return render(request, "rumours/debunk_form.html", {
        "d": d, "verdicts": Verdict.choices, "topics": TOPICS, "sources": sources, "error": error,
        "data": request.POST if request.method == "POST" else None,
    }, status=422 if error else 200)


# -- staff: monitoring, monthly list, partners ------------------------------------------------------

@guarded
def monitor(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    qs = selectors.claims_visible(user)
    today = timezone.localdate()
    days = 90
    by = "district" if request.GET.get("by") == "district" else "topic"
    series = selectors.volume(qs, end=today, days=days, by=by)
    chart = {"days": [(today - dt.timedelta(days=days - 1 - i)).strftime("%m-%d") for i in range(days)],
             "series": [{"name": k, "data": v} for k, v in series.items()]}
    rises = selectors.cluster_rises(qs, today=today)
    since = (today.replace(day=1) - dt.timedelta(days=150)).replace(day=1)
    return render(request, "rumours/monitor.html", {
        "chart_json": json.dumps(chart, ensure_ascii=False), "by": by, "rises": rises[:30],
        "rising_n": sum(r.rising for r in rises),
        "responses": selectors.response_table(qs, since=since),
        "method": {"days": monitoring.BASELINE_DAYS, "alpha": monitoring.ALPHA, "floor": monitoring.BASELINE_FLOOR,
                   "p": monitoring.P_THRESHOLD, "min": monitoring.MIN_COUNT},
        "totals": {k: sum(v) for k, v in series.items()},
    })


@guarded
def staff_monthly(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    year, month = _month(request)
    rows = selectors.monthly_top(selectors.claims_visible(user), year=year, month=month, limit=20)
    return render(request, "rumours/staff_monthly.html", {"rows": rows, "nav": _month_nav(year, month)})


@guarded
@require_http_methods(["GET", "POST"])
def partners(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    if not scope_for(user).is_office_admin:
        raise DjangoPermissionDenied(_("只有领导小组办公室管理员可以管理合作平台。"))
    units = OrgUnit.objects.filter(scope_for(user).unit_filter(roles=("office_admin",)),
                                   level__in=[OrgUnit.Level.CITY, OrgUnit.Level.DISTRICT]).order_by("path")
    token, error = "", ""
    if request.method == "POST":
        if request.POST.get("deactivate", "").isdigit():
            p = Partner.objects.filter(pk=int(request.POST["deactivate"])).select_related("org_unit").first()
            if p is None:
                raise Http404
            services.partner_deactivate(actor=user, partner=p)
            messages.success(request, _("已停用。"))
            return redirect("rumours:partners")
        unit = units.filter(pk=int(request.POST.get("org_unit") or 0)).first() \
            if str(request.POST.get("org_unit", "")).isdigit() else None
        try:
            if unit is None:
                raise InputError(_("所属地区：请选择。"))
            _partner, token = services.partner_create(actor=user, name=request.POST.get("name", ""), org_unit=unit)
        except InputError as exc:
            error = str(exc)
    rows = Partner.objects.filter(org_unit__in=units).select_related("org_unit").order_by("name")
    return render(request, "rumours/partners.html", {"rows": rows, "units": units, "token": token, "error": error})
