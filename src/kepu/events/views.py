"""Pages of the events app. Staff: /events/ (list, new event, event page with walk-ins,
certification, photos and Excel), /events/<id>/checkin/ (the offline-tolerant check-in page),
/events/calendar/ (campaign calendar), /events/technicians/ (科技特派员). Citizens: /me/events/
(open events, their registrations and QR codes, feedback). Thin: rules live in services/selectors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kepu.citizens.access import citizen_required
from kepu.citizens.models import KEY_GROUPS
from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import OrgUnit
from kepu.core.scope import actor, scope_for
from kepu.core.uploads import read_upload
from kepu.events import excel, selectors, services
from kepu.events.models import CampaignDay, Event, EventPhoto, TrainingKind

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def guarded(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Scope refusals from services and selectors become a 403 page."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(str(exc)) from exc

    return login_required(wrapped)


def _staff(request: HttpRequest) -> Any:
    user = actor(request)
    if not scope_for(user).paths and not scope_for(user).superuser:
        raise PermissionDenied(_("这是工作人员页面。"))
    return user


def _xlsx(content: bytes, filename: str) -> HttpResponse:
    resp = HttpResponse(content, content_type=XLSX)
    resp["Content-Disposition"] = f'attachment; filename="{filename}"'
    return resp


def _show_errors(request: HttpRequest, exc: InputError) -> None:
    messages.error(request, str(exc))
    for e in exc.errors[:50]:
        if e != str(exc):
            messages.error(request, e)


class EventForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("活动名称"), max_length=200)
    kind = forms.ChoiceField(label=gettext_lazy("类型"), choices=Event.Kind.choices)
    training_kind = forms.ChoiceField(
        label=gettext_lazy("培训类别（培训必选）"), required=False, choices=[("", "—"), *TrainingKind.choices]
    )
    series = forms.ChoiceField(label=gettext_lazy("品牌系列"), required=False)
    organiser = forms.CharField(label=gettext_lazy("主办单位"), max_length=200)
    org_unit = forms.ChoiceField(label=gettext_lazy("所属地区"))
    venue = forms.CharField(label=gettext_lazy("地点"), max_length=200)
    starts_at = forms.DateTimeField(
        label=gettext_lazy("开始时间"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    ends_at = forms.DateTimeField(
        label=gettext_lazy("结束时间"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    capacity = forms.IntegerField(label=gettext_lazy("容量（0 为不限）"), min_value=0, initial=0)
    task = forms.ChoiceField(label=gettext_lazy("对应规划任务"), required=False)
    setting = forms.ChoiceField(
        label=gettext_lazy("面向场景（五进）"), required=False, choices=[("", "—"), *Event.Setting.choices]
    )
    key_groups = forms.MultipleChoiceField(
        label=gettext_lazy("面向重点人群"), required=False, choices=KEY_GROUPS, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        units = selectors.units_managed(user)
        self.fields["org_unit"].choices = [(u.code, ("　" if u.level == "town" else "") + u.name_zh) for u in units]  # type: ignore[attr-defined]
        self.fields["series"].choices = [("", "—"), *[(s.code, s.name_zh) for s in selectors.series_all()]]  # type: ignore[attr-defined]
        tasks = [(str(t.pk), f"{t.code} {t.name_zh}") for t in selectors.plan_tasks()]
        self.fields["task"].choices = [("", "—"), *tasks]  # type: ignore[attr-defined]
        now = timezone.localtime().replace(minute=0, second=0, microsecond=0)
        self.fields["starts_at"].initial = now
        self.fields["ends_at"].initial = now + dt.timedelta(hours=2)


@guarded
def event_list(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    year = int(request.GET.get("year") or timezone.localdate().year)
    district = request.GET.get("district") or None
    events = selectors.q_search(selectors.events_for(user, year=year, district=district), request.GET.get("q", ""))
    if request.GET.get("format") == "xlsx":
        return _xlsx(excel.events_xlsx(events), f"events-{year}.xlsx")
    return render(
        request,
        "events/list.html",
        {
            "events": events[:500],
            "year": year,
            "district": district or "",
            "years": range(timezone.localdate().year + 1, 2020, -1),
            "districts": [
                d for d in selectors.districts() if scope_for(user).covers(d) or scope_for(user).is_office_admin
            ],
            "can_create": selectors.units_managed(user).exists(),
            "summary": selectors.year_summary(user, year=year),
            "q": request.GET.get("q", ""),
        },
    )


@guarded
def event_new(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    if not selectors.units_managed(user).exists():
        raise PermissionDenied(_("您没有可以创建活动的地区。"))
    form = EventForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        unit = OrgUnit.objects.get(code=d["org_unit"])
        series = selectors.series_all().filter(code=d["series"]).first() if d["series"] else None
        task = selectors.plan_tasks().filter(pk=int(d["task"])).first() if d.get("task") else None
        try:
            event = services.event_create(
                actor=user,
                org_unit=unit,
                title=d["title"],
                kind=d["kind"],
                training_kind=d["training_kind"] if d["kind"] == Event.Kind.TRAINING else "",
                series=series,
                organiser=d["organiser"],
                venue=d["venue"],
                starts_at=d["starts_at"],
                ends_at=d["ends_at"],
                capacity=d["capacity"] or 0,
                key_groups=d["key_groups"],
                setting=d.get("setting") or "",
                task=task,
            )
        except InputError as exc:
            _show_errors(request, exc)
        else:
            messages.success(request, _("已创建活动“%(t)s”。") % {"t": event.title})
            return redirect("events:detail", event.pk)
    return render(request, "events/form.html", {"form": form})


@guarded
def event_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _staff(request)
    event = selectors.event_get(user, pk, manage=True)
    initial = {
        "title": event.title,
        "kind": event.kind,
        "training_kind": event.training_kind,
        "series": event.series.code if event.series else "",
        "organiser": event.organiser,
        "org_unit": event.org_unit.code,
        "venue": event.venue,
        "starts_at": timezone.localtime(event.starts_at),
        "ends_at": timezone.localtime(event.ends_at),
        "capacity": event.capacity,
        "key_groups": event.key_groups,
        "setting": event.setting,
        "task": str(event.task_id or ""),
    }
    form = EventForm(request.POST or None, user=user, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.event_update(
                actor=user,
                event=event,
                org_unit=OrgUnit.objects.get(code=d["org_unit"]),
                title=d["title"],
                kind=d["kind"],
                training_kind=d["training_kind"] if d["kind"] == Event.Kind.TRAINING else "",
                series=selectors.series_all().filter(code=d["series"]).first() if d["series"] else None,
                organiser=d["organiser"],
                venue=d["venue"],
                starts_at=d["starts_at"],
                ends_at=d["ends_at"],
                capacity=d["capacity"] or 0,
                key_groups=d["key_groups"],
                setting=d.get("setting") or "",
                task=selectors.plan_tasks().filter(pk=int(d["task"])).first() if d.get("task") else None,
            )
        except InputError as exc:
            _show_errors(request, exc)
        else:
            messages.success(request, _("活动已保存。"))
            return redirect("events:detail", event.pk)
    return render(request, "events/form.html", {"form": form, "event": event})


@guarded
def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _staff(request)
    event = selectors.event_get(user, pk)
    manage = selectors.can_manage(user, event)
    return render(
        request,
        "events/detail.html",
        {
            "event": event,
            "manage": manage,
            "registrations": selectors.registrations_of(event),
            "by_group": selectors.attendance_by_group(event),
            "feedback": selectors.feedback_summary(event),
            "photos": event.photos.select_related("evidence"),
            "key_groups": KEY_GROUPS,
            "is_office": scope_for(user).is_office_admin,
            "self_registered": event.registrations.filter(citizen_user=user).exists(),
            "group_names": dict(KEY_GROUPS),
        },
    )


@require_POST
@guarded
def walk_in(request: HttpRequest, pk: int) -> HttpResponse:
    user = _staff(request)
    event = selectors.event_get(user, pk, manage=True)
    try:
        reg = services.registration_walk_in(
            actor=user,
            event=event,
            name=request.POST.get("name", ""),
            phone=request.POST.get("phone", ""),
            key_group=request.POST.get("key_group", ""),
        )
    except InputError as exc:
        _show_errors(request, exc)
    else:
        messages.success(request, _("已登记 %(n)s，报名码 %(c)s。") % {"n": reg.name, "c": reg.code})
    return redirect("events:detail", event.pk)


@require_POST
@guarded
def certify(request: HttpRequest, pk: int) -> HttpResponse:
    user = _staff(request)
    event = selectors.event_get(user, pk, manage=True)
    ids = [int(i) for i in request.POST.getlist("registration") if i.isdigit()]
    certified = request.POST.get("action") != "decertify"
    try:
        n = services.registrations_certify(
            actor=user, event=event, registrations=event.registrations.filter(pk__in=ids), certified=certified
        )
    except InputError as exc:
        _show_errors(request, exc)
    else:
        if certified:
            messages.success(request, _("已认定 %(n)s 人结业。") % {"n": n})
        else:
            messages.success(request, _("已撤销 %(n)s 人的结业认定。") % {"n": n})
    return redirect("events:detail", event.pk)


@require_POST
@guarded
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    user = _staff(request)
    event = selectors.event_get(user, pk, manage=True)
    services.event_cancel(actor=user, event=event)
    messages.success(request, _("活动已取消。"))
    return redirect("events:detail", event.pk)


@require_POST
@guarded
def photo_upload(request: HttpRequest, pk: int) -> HttpResponse:
    user = _staff(request)
    event = selectors.event_get(user, pk, manage=True)
    upload = request.FILES.get("photo")
    if upload is None:
        messages.error(request, _("请选择照片。"))
    else:
        try:
            services.photo_add(actor=user, event=event, upload=upload, caption=request.POST.get("caption", ""))
        except InputError as exc:
            _show_errors(request, exc)
        else:
            messages.success(request, _("照片已上传。"))
    return redirect("events:detail", event.pk)


@guarded
def photo(request: HttpRequest, pk: int) -> HttpResponseBase:
    user = _staff(request)
    p = EventPhoto.objects.select_related("event__org_unit", "evidence").filter(pk=pk).first()
    if p is None:
        raise DjangoPermissionDenied
    selectors.event_get(user, p.event_id)
    return FileResponse(p.evidence.file.open("rb"), content_type=p.evidence.content_type)


@guarded
def attendees_export(request: HttpRequest, pk: int) -> HttpResponse:
    user = _staff(request)
    event = selectors.event_get(user, pk, manage=True)
    unmasked = request.GET.get("full") == "1"
    return _xlsx(excel.attendees_xlsx(actor=user, event=event, unmasked=unmasked), f"attendees-{event.pk}.xlsx")


@guarded
def attendees_import(request: HttpRequest, pk: int) -> HttpResponse:
    user = _staff(request)
    event = selectors.event_get(user, pk, manage=True)
    if request.method == "POST" and request.FILES.get("file"):
        upload: Any = request.FILES["file"]
        try:
            regs = excel.attendees_import(
                actor=user, event=event, content=read_upload(upload, kind="registry"), name=upload.name or "upload.xlsx"
            )
        except InputError as exc:
            _show_errors(request, exc)
        else:
            messages.success(request, _("已导入 %(n)s 人。") % {"n": len(regs)})
            return redirect("events:detail", event.pk)
    if request.GET.get("template") == "1":
        return _xlsx(
            excel.template_xlsx(excel.ATTENDEE_COLUMNS, ["张三（演示）", "13800000000", "农民"]),
            "attendees-template.xlsx",
        )
    return render(request, "events/import.html", {"event": event, "columns": excel.ATTENDEE_COLUMNS})


@guarded
def events_import(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    if request.method == "POST" and request.FILES.get("file"):
        upload: Any = request.FILES["file"]
        try:
            events = excel.events_import(
                actor=user, content=read_upload(upload, kind="registry"), name=upload.name or "upload.xlsx"
            )
        except InputError as exc:
            _show_errors(request, exc)
        else:
            messages.success(request, _("已导入 %(n)s 场活动。") % {"n": len(events)})
            return redirect("events:list")
    if request.GET.get("template") == "1":
        return _xlsx(
            excel.template_xlsx(
                [*excel.EVENT_COLUMNS, excel.SETTING_COLUMN],
                [
                    "科普大讲堂（演示）",
                    "科普活动",
                    "",
                    "lecture",
                    "武进区科协",
                    "320412",
                    "武进区图书馆",
                    "2026-09-19 09:00",
                    "2026-09-19 11:00",
                    100,
                    "青少年、老年人",
                    "进社区",
                ],
            ),
            "events-template.xlsx",
        )
    return render(
        request,
        "events/import.html",
        {
            "event": None,
            "columns": [*excel.EVENT_COLUMNS, excel.SETTING_COLUMN],
            "note": _(
                "整份文件一起检查：只要有一行有错，就一行也不导入，并列出每一处错误。"
                "“五进场景”列可以不要；有这一列时填进企业、进农村、进社区、进学校、进家庭之一，或留空。"
            ),
        },
    )


@guarded
def checkin_page(request: HttpRequest, pk: int) -> HttpResponse:
    user = _staff(request)
    event = selectors.event_get(user, pk, manage=True)
    lo, hi = services.checkin_window(event)
    return render(
        request,
        "events/checkin.html",
        {
            "event": event,
            "window_start": lo,
            "window_end": hi,
            "checked": event.registrations.filter(checkin__isnull=False).count(),
            "registered": event.registrations.count(),
        },
    )


@guarded
def calendar_page(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    year = int(request.GET.get("year") or timezone.localdate().year)
    scope = scope_for(user)
    districts = [d for d in selectors.districts() if scope.covers(d)]
    district = request.GET.get("district") or (districts[0].code if len(districts) == 1 else "")
    cal = selectors.calendar(user, year=year, district=district or None)
    return render(
        request,
        "events/calendar.html",
        {
            "cal": cal,
            "year": year,
            "district": district,
            "districts": districts,
            "years": range(timezone.localdate().year + 1, 2020, -1),
            "is_office": scope.is_office_admin,
        },
    )


@guarded
def calendar_edit(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    services.require_office(user)
    year = int(request.GET.get("year") or request.POST.get("year") or timezone.localdate().year)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "seed":
                services.calendar_seed_year(actor=user, year=year)
            elif request.POST.get("action") == "delete":
                day = CampaignDay.objects.get(pk=int(request.POST["pk"]))
                services.campaign_day_delete(actor=user, day=day)
            else:
                services.campaign_day_save(
                    actor=user,
                    year=year,
                    code=request.POST.get("code", "").strip() or f"day-{timezone.now():%H%M%S}",
                    name_zh=request.POST.get("name_zh", "").strip(),
                    start=dt.date.fromisoformat(request.POST.get("start", "")),
                    end=dt.date.fromisoformat(request.POST.get("end", "")),
                    note=request.POST.get("note", ""),
                )
        except InputError as exc:
            _show_errors(request, exc)
        except ValueError:
            messages.error(request, _("日期格式应为 2026-09-19。"))
        else:
            messages.success(request, _("活动日历已保存。"))
        return redirect(f"{request.path}?year={year}")
    return render(
        request,
        "events/calendar_edit.html",
        {"year": year, "days": CampaignDay.objects.filter(year=year).order_by("start")},
    )


@guarded
def technicians(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    units = selectors.units_managed(user).filter(level__in=[OrgUnit.Level.TOWN, OrgUnit.Level.VILLAGE])
    if request.method == "POST":
        try:
            unit = units.get(code=request.POST.get("org_unit", ""))
        except OrgUnit.DoesNotExist:
            messages.error(request, _("请选择派驻的镇(街道)或村(社区)。"))
            return redirect("events:technicians")
        try:
            services.assignment_create(
                actor=user,
                org_unit=unit,
                technician_name=request.POST.get("technician_name", ""),
                households=int(request.POST.get("households") or 0),
                start=dt.date.fromisoformat(request.POST.get("start") or str(timezone.localdate())),
                speciality=request.POST.get("speciality", ""),
            )
        except InputError as exc:
            _show_errors(request, exc)
        except ValueError:
            messages.error(request, _("户数应为整数，日期格式应为 2026-09-19。"))
        else:
            messages.success(request, _("已添加派驻。"))
        return redirect("events:technicians")
    rows = [(a, selectors.technician_name(a)) for a in selectors.assignments_for(user)[:500]]
    return render(request, "events/technicians.html", {"rows": rows, "units": units, "today": timezone.localdate()})


@guarded
def technicians_export(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    return _xlsx(excel.assignments_xlsx(actor=user), "technicians.xlsx")


@guarded
def visits_import(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    if request.method == "POST" and request.FILES.get("file"):
        upload: Any = request.FILES["file"]
        try:
            visits = excel.visits_import(
                actor=user, content=read_upload(upload, kind="registry"), name=upload.name or "upload.xlsx"
            )
        except InputError as exc:
            _show_errors(request, exc)
        else:
            messages.success(request, _("已导入 %(n)s 条走访记录。") % {"n": len(visits)})
            return redirect("events:technicians")
    if request.GET.get("template") == "1":
        first = (
            selectors.assignments_for(user)
            .filter(scope_for(user).unit_filter("org_unit__", services.MANAGE_ROLES))
            .first()
        )
        example = [
            first.pk if first else 1,
            timezone.localdate().isoformat(),
            first.org_unit.code if first else "",
            5,
            "水稻病虫害防治（演示）",
        ]
        return _xlsx(excel.template_xlsx(excel.VISIT_COLUMNS, example), "visits-template.xlsx")
    return render(
        request,
        "events/import.html",
        {
            "event": None,
            "columns": excel.VISIT_COLUMNS,
            "heading": _("导入走访记录"),
            "note": _(
                "整份文件一起检查：只要有一行有错，就一行也不导入，并列出每一处错误。派驻编号见导出文件的“派驻”表；"
                "走访地点代码留空即为派驻地。"
            ),
        },
    )


@guarded
def assignment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _staff(request)
    a = selectors.assignment_get(user, pk)
    manage = scope_for(user).covers(a.org_unit, services.MANAGE_ROLES)
    if request.method == "POST":
        a = selectors.assignment_get(user, pk, manage=True)
        try:
            services.visit_log(
                actor=user,
                assignment=a,
                date=dt.date.fromisoformat(request.POST.get("date", "")),
                households_visited=int(request.POST.get("households_visited") or 0),
                content=request.POST.get("content", ""),
            )
        except InputError as exc:
            _show_errors(request, exc)
        except ValueError:
            messages.error(request, _("户数应为整数，日期格式应为 2026-09-19。"))
        else:
            messages.success(request, _("已记录走访。"))
        return redirect("events:assignment", a.pk)
    return render(
        request,
        "events/assignment.html",
        {
            "a": a,
            "name": selectors.technician_name(a),
            "visits": selectors.visits_of(a),
            "manage": manage,
            "today": timezone.localdate(),
        },
    )


# -- citizens ----------------------------------------------------------------------------------------


def qr_svg(code: str) -> str:
    """An inline SVG QR code of a registration code (no external image, CSP-safe)."""
    return segno.make(code, error="m").svg_inline(scale=6, border=2, dark="#0b3d75")


@citizen_required
def my_events(request: HttpRequest) -> HttpResponse:
    mine = selectors.my_registrations(request.user)
    taken = set(mine.values_list("event_id", flat=True))
    open_events = [e for e in selectors.open_events()[:100] if e.pk not in taken]
    return render(request, "events/me_list.html", {"mine": mine, "open_events": open_events})


@require_POST
@citizen_required
def my_register(request: HttpRequest, pk: int) -> HttpResponse:
    event = selectors.open_events().filter(pk=pk).first()
    if event is None:
        messages.error(request, _("这个活动已结束或已取消。"))
        return redirect("events:me")
    try:
        reg = services.registration_self(
            user=actor(request),
            event=event,
            key_group=request.POST.get("key_group", ""),
        )
    except InputError as exc:
        messages.error(request, str(exc))
        return redirect("events:me")
    messages.success(request, _("报名成功。到场时请出示下面的二维码签到。"))
    return redirect("events:me_registration", reg.code)


@citizen_required
def my_registration(request: HttpRequest, code: str) -> HttpResponse:
    reg = selectors.my_registration(request.user, code)
    if request.method == "POST":
        try:
            services.feedback_give(
                user=actor(request),
                registration=reg,
                rating=int(request.POST.get("rating") or 0),
                comment=request.POST.get("comment", ""),
            )
        except (InputError, ValueError) as exc:
            messages.error(request, str(exc) if isinstance(exc, InputError) else _("评分：应为 1 到 5 的整数。"))
        else:
            messages.success(request, _("谢谢您的评价。"))
        return redirect("events:me_registration", reg.code)
    return render(
        request,
        "events/me_registration.html",
        {
            "reg": reg,
            "event": reg.event,
            "qr": mark_safe(qr_svg(reg.code)),
            "ratings": range(5, 0, -1),
        },
    )
