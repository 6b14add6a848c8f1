"""Pages of the talent pool (专家库), volunteer service (志愿服务) and the public certificate check.
Thin: the rules live in kepu.community.services / volunteers / selectors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from kepu.community import registry_io, selectors, services
from kepu.community import volunteers as vsvc
from kepu.community.models import (
    AssignmentKind,
    Evaluation,
    Expert,
    ExpertRole,
    ServiceRecord,
    TeamKind,
    Volunteer,
)
from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import OrgUnit
from kepu.core.scope import actor, scope_for
from kepu.core.uploads import max_size_label, read_upload
from kepu.plans.derived import ancestor_at

View = Callable[..., HttpResponse]


def guarded(view: View) -> View:
    """Scope refusals from the services become 403 pages."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(str(exc)) from exc

    return login_required(wrapper)


def _manager(request: HttpRequest) -> Any:
    user = actor(request)
    if not vsvc.manages_any(user):
        raise DjangoPermissionDenied(_("只有领导小组办公室和辖市（区）管理员可以管理专家库和志愿者。"))
    return user


class UnitChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name_zh)


class VolunteerChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}（{obj.phone_masked or obj.id_masked}）"


def _units_field(user: Any, label: str) -> UnitChoice:
    return UnitChoice(label=label, queryset=vsvc.managed_units(user).filter(
        level__in=(OrgUnit.Level.CITY, OrgUnit.Level.DISTRICT, OrgUnit.Level.TOWN)))


def _split(text: str) -> list[str]:
    return [p.strip() for p in text.replace("，", ",").replace("、", ",").replace("；", ",").split(",") if p.strip()]


def _errors_to(form: forms.Form, exc: InputError) -> None:
    for err in exc.errors:
        form.add_error(None, err)


# -- experts -----------------------------------------------------------------------------------------


class ExpertForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("姓名"), max_length=60)
    organisation = forms.CharField(label=gettext_lazy("工作单位"), max_length=200)
    title = forms.CharField(label=gettext_lazy("职称/职务"), max_length=100, required=False)
    fields_text = forms.CharField(label=gettext_lazy("专业领域（用顿号或逗号分隔）"), max_length=300, required=False)
    specialities = forms.CharField(label=gettext_lazy("专长"), required=False,
                                   widget=forms.Textarea(attrs={"rows": 2}))
    languages_text = forms.CharField(label=gettext_lazy("语言"), max_length=200, required=False)
    availability = forms.CharField(label=gettext_lazy("可服务时间"), max_length=200, required=False)
    roles = forms.MultipleChoiceField(label=gettext_lazy("角色"), choices=ExpertRole.choices, required=False,
                                      widget=forms.CheckboxSelectMultiple)
    phone = forms.CharField(label=gettext_lazy("手机号（仅保存加密值，页面只显示掩码）"), max_length=30, required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["org_unit"] = _units_field(user, _("管理单位"))


@guarded
def expert_list(request: HttpRequest) -> HttpResponse:
    user = _manager(request)
    qs = selectors.experts_visible(user)
    q, role, field = (request.GET.get(k, "")[:100] for k in ("q", "role", "field"))
    show = request.GET.get("show", "")
    experts = selectors.expert_search(qs, text=q, role=role, field=field,
                                      active=None if show == "all" else True)
    return render(request, "community/expert_list.html", {
        "experts": experts[:500], "count": len(experts), "q": q, "role": role, "field": field, "show": show,
        "roles": ExpertRole.choices, "fields": selectors.expert_fields(qs), "role_names": dict(ExpertRole.choices),
        "upload_limit": max_size_label("registry"), "perms_unmasked": scope_for(user).is_office_admin,
    })


def _expert(user: Any, pk: int) -> Expert:
    e = selectors.experts_visible(user).filter(pk=pk).first()
    if e is None:
        raise Http404(_("没有这位专家，或您无权查看。"))
    return e


@guarded
@require_http_methods(["GET", "POST"])
def expert_new(request: HttpRequest) -> HttpResponse:
    user = _manager(request)
    form = ExpertForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            e = services.expert_create(
                actor=user, name=d["name"], organisation=d["organisation"], org_unit=d["org_unit"],
                fields=_split(d["fields_text"]), roles=d["roles"], title=d["title"], specialities=d["specialities"],
                languages=_split(d["languages_text"]), availability=d["availability"], phone=d["phone"])
        except InputError as exc:
            _errors_to(form, exc)
        else:
            messages.success(request, _("已加入专家库。"))
            return redirect("community:expert_detail", e.pk)
    return render(request, "community/form.html", {"form": form, "title": _("新增专家"),
                                                   "back": reverse("community:experts")})


@guarded
@require_http_methods(["GET", "POST"])
def expert_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _manager(request)
    e = _expert(user, pk)
    initial = {"name": e.name, "organisation": e.organisation, "title": e.title, "fields_text": "、".join(e.fields),
               "specialities": e.specialities, "languages_text": "、".join(e.languages),
               "availability": e.availability, "roles": e.roles, "org_unit": e.org_unit}
    form = ExpertForm(request.POST or None, user=user, initial=initial)
    form.fields["phone"].help_text = _("当前：%(m)s；留空则不改。") % {"m": e.phone_masked or "—"}
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.expert_update(actor=user, expert=e, data={
                "name": d["name"], "organisation": d["organisation"], "title": d["title"],
                "fields": _split(d["fields_text"]), "specialities": d["specialities"],
                "languages": _split(d["languages_text"]), "availability": d["availability"], "roles": d["roles"],
                "org_unit": d["org_unit"], "phone": d["phone"]})
        except InputError as exc:
            _errors_to(form, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("community:expert_detail", e.pk)
    return render(request, "community/form.html", {"form": form, "title": _("修改专家信息"),
                                                   "back": reverse("community:expert_detail", args=[e.pk])})


class AssignForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("任务类型"), choices=AssignmentKind.choices)
    title = forms.CharField(label=gettext_lazy("任务名称"), max_length=200)
    ref = forms.CharField(label=gettext_lazy("链接或对象"), max_length=300, required=False)


@guarded
def expert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _manager(request)
    e = _expert(user, pk)
    form = AssignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.expert_assign(actor=user, expert=e, **form.cleaned_data)
        except InputError as exc:
            _errors_to(form, exc)
        else:
            messages.success(request, _("任务已分派。"))
            return redirect("community:expert_detail", e.pk)
    return render(request, "community/expert_detail.html", {
        "e": e, "form": form, "assignments": e.assignments.select_related("assigned_by")[:100],
        "role_names": dict(ExpertRole.choices)})


@guarded
@require_POST
def expert_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    user = _manager(request)
    e = _expert(user, pk)
    services.expert_deactivate(actor=user, expert=e, reason=request.POST.get("reason", "")[:300])
    messages.success(request, _("已停用该专家。"))
    return redirect("community:expert_detail", e.pk)


@guarded
def my_tasks(request: HttpRequest) -> HttpResponse:
    return render(request, "community/my_tasks.html", {
        "assignments": selectors.my_assignments(request.user)[:200], "profile": selectors.expert_profile(request.user)})


# -- volunteers and teams ----------------------------------------------------------------------------


class VolunteerForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("姓名"), max_length=60)
    phone = forms.CharField(label=gettext_lazy("手机号"), max_length=30, required=False)
    id_number = forms.CharField(label=gettext_lazy("身份证号"), max_length=30, required=False)
    is_info_officer = forms.BooleanField(label=gettext_lazy("科普信息员"), required=False)
    skills = forms.CharField(label=gettext_lazy("服务专长"), max_length=200, required=False)

    def __init__(self, *args: Any, user: Any, units: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if units is None:
            self.fields["org_unit"] = _units_field(user, _("所属单位"))
            self.fields["team"] = forms.ModelChoiceField(label=_("志愿服务队"), required=False,
                                                         queryset=vsvc.teams_visible(user))
        else:
            self.fields["org_unit"] = UnitChoice(label=_("所在辖市（区）"), queryset=units)
        self.fields["phone"].help_text = _("手机号和身份证号至少填一项；只保存加密值，页面只显示掩码。")


@guarded
def volunteer_list(request: HttpRequest) -> HttpResponse:
    user = _manager(request)
    q = request.GET.get("q", "")[:100]
    qs = vsvc.volunteer_search(vsvc.volunteers_visible(user).filter(vsvc.Q_managed(user, "org_unit__")), q)
    return render(request, "community/volunteer_list.html", {
        "volunteers": qs[:500], "count": qs.count(), "q": q, "upload_limit": max_size_label("registry"),
        "perms_unmasked": scope_for(user).is_office_admin})


@guarded
@require_http_methods(["GET", "POST"])
def volunteer_new(request: HttpRequest) -> HttpResponse:
    user = _manager(request)
    form = VolunteerForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            v = vsvc.volunteer_register(actor=user, name=d["name"], org_unit=d["org_unit"], phone=d["phone"],
                                        id_number=d["id_number"], team=d.get("team"),
                                        is_info_officer=d["is_info_officer"], skills=d["skills"])
        except InputError as exc:
            _errors_to(form, exc)
        else:
            messages.success(request, _("志愿者已登记。"))
            return redirect("community:volunteer_detail", v.pk)
    return render(request, "community/form.html", {"form": form, "title": _("登记志愿者"),
                                                   "back": reverse("community:volunteers")})


def _volunteer(user: Any, pk: int) -> Volunteer:
    v = vsvc.volunteers_visible(user).filter(pk=pk).first()
    if v is None:
        raise Http404(_("没有这位志愿者，或您无权查看。"))
    return v


@guarded
def volunteer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    v = _volunteer(request.user, pk)
    return render(request, "community/volunteer_detail.html", {
        "v": v, "records": v.records.select_related("org_unit")[:200], "certificates": v.certificates.all()[:50],
        "manage": vsvc.can_manage(request.user, v.org_unit), "year": timezone.localdate().year,
        "own": v.user_id == request.user.pk})


class VolunteerEditForm(forms.Form):
    is_info_officer = forms.BooleanField(label=gettext_lazy("科普信息员"), required=False)
    skills = forms.CharField(label=gettext_lazy("服务专长"), max_length=200, required=False)
    active = forms.BooleanField(label=gettext_lazy("在册（取消即停用）"), required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"] = forms.ModelChoiceField(label=_("志愿服务队"), required=False,
                                                     queryset=vsvc.teams_visible(user))


@guarded
@require_http_methods(["GET", "POST"])
def volunteer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _manager(request)
    v = vsvc.volunteers_visible(user).filter(vsvc.Q_managed(user), pk=pk).first()
    if v is None:
        raise Http404(_("没有这位志愿者，或您无权查看。"))
    form = VolunteerEditForm(request.POST or None, user=user, initial={
        "is_info_officer": v.is_info_officer, "skills": v.skills, "active": v.active, "team": v.team})
    if request.method == "POST" and form.is_valid():
        vsvc.volunteer_update(actor=user, volunteer=v, data=form.cleaned_data)
        messages.success(request, _("已保存。"))
        return redirect("community:volunteer_detail", v.pk)
    return render(request, "community/form.html", {"form": form, "title": _("修改志愿者信息：%(n)s") % {"n": v.name},
                                                   "back": reverse("community:volunteer_detail", args=[v.pk])})


class TeamForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("队伍名称"), max_length=100)
    kind = forms.ChoiceField(label=gettext_lazy("队伍类型"), choices=TeamKind.choices)
    leader = forms.CharField(label=gettext_lazy("负责人"), max_length=60, required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["org_unit"] = _units_field(user, _("所属单位"))


@guarded
@require_http_methods(["GET", "POST"])
def team_list(request: HttpRequest) -> HttpResponse:
    user = _manager(request)
    form = TeamForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            vsvc.team_create(actor=user, **form.cleaned_data)
        except InputError as exc:
            _errors_to(form, exc)
        else:
            messages.success(request, _("志愿服务队已建立。"))
            return redirect("community:teams")
    teams = vsvc.teams_visible(user)
    rows = [(t, t.members.filter(active=True).count()) for t in teams[:300]]
    return render(request, "community/team_list.html", {"rows": rows, "form": form,
                                                        "upload_limit": max_size_label("registry")})


# -- service records ---------------------------------------------------------------------------------


class RecordForm(forms.Form):
    content = forms.CharField(label=gettext_lazy("服务内容"), max_length=300)
    place = forms.CharField(label=gettext_lazy("服务地点"), max_length=200)
    organiser = forms.CharField(label=gettext_lazy("组织单位"), max_length=200)
    start = forms.DateTimeField(label=gettext_lazy("开始时间"), widget=forms.DateTimeInput(
        attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))
    end = forms.DateTimeField(label=gettext_lazy("结束时间"), widget=forms.DateTimeInput(
        attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))
    hours = forms.DecimalField(label=gettext_lazy("服务时长（小时，留空按起止时间计）"), required=False,
                               max_digits=5, decimal_places=1)
    training = forms.CharField(label=gettext_lazy("培训情况"), max_length=300, required=False)
    awards = forms.CharField(label=gettext_lazy("表彰奖励"), max_length=300, required=False)
    evaluation = forms.ChoiceField(label=gettext_lazy("服务评价"), required=False,
                                   choices=[("", "—"), *Evaluation.choices])

    def __init__(self, *args: Any, user: Any, own: Volunteer | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if own is None:
            vol = VolunteerChoice(label=_("志愿者"), queryset=vsvc.volunteers_visible(user).filter(active=True))
            self.fields = {"volunteer": vol, **self.fields}
            self.fields["org_unit"] = _units_field(user, _("组织单位所属辖市（区）"))
        else:
            city = ancestor_at(own.org_unit, OrgUnit.Level.CITY)
            units = OrgUnit.objects.filter(parent=city, level=OrgUnit.Level.DISTRICT).order_by("sort", "code")
            self.fields["org_unit"] = UnitChoice(label=_("服务所在辖市（区）"), queryset=units,
                                                 initial=vsvc.district_of(own.org_unit))


def _record_kwargs(d: dict[str, Any]) -> dict[str, Any]:
    return {k: d[k] for k in ("org_unit", "organiser", "content", "place", "start", "end", "training", "awards",
                              "evaluation")} | {"hours": d["hours"]}


@guarded
@require_http_methods(["GET", "POST"])
def record_new(request: HttpRequest) -> HttpResponse:
    user = _manager(request)
    form = RecordForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            vsvc.record_create(actor=user, volunteer=d["volunteer"], **_record_kwargs(d))
        except InputError as exc:
            _errors_to(form, exc)
        else:
            messages.success(request, _("服务记录已保存，待另一位管理员审核。"))
            return redirect("community:records")
    return render(request, "community/form.html", {"form": form, "title": _("记录志愿服务"),
                                                   "back": reverse("community:records")})


@guarded
def record_list(request: HttpRequest) -> HttpResponse:
    user = _manager(request)
    status = request.GET.get("status", "pending")
    qs = vsvc.records_visible(user).filter(vsvc.Q_managed(user, "org_unit__"))
    if status in ServiceRecord.Status.values:
        qs = qs.filter(status=status)
    return render(request, "community/record_list.html", {
        "records": qs[:500], "count": qs.count(), "status": status, "statuses": ServiceRecord.Status.choices,
        "upload_limit": max_size_label("registry"),
        "perms_unmasked": scope_for(user).is_office_admin})


@guarded
@require_POST
def record_decide(request: HttpRequest) -> HttpResponse:
    user = _manager(request)
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()][:1000]
    records = list(vsvc.records_visible(user).filter(pk__in=ids).filter(vsvc.Q_managed(user, "org_unit__")))
    action, reason = request.POST.get("action", ""), request.POST.get("reason", "")[:300]
    back = request.POST.get("next") or reverse("community:records")
    if not back.startswith("/") or back.startswith("//"):
        back = reverse("community:records")
    if len(records) != len(set(ids)):
        raise Http404(_("没有这些服务记录，或您无权查看。"))
    try:
        if action == "approve":
            n = vsvc.records_approve(actor=user, records=records, comment=reason)
            messages.success(request, _("已认定 %(n)s 条服务记录。") % {"n": n})
        elif action == "reject":
            n = vsvc.records_reject(actor=user, records=records, reason=reason)
            messages.success(request, _("已退回 %(n)s 条服务记录。") % {"n": n})
        elif action == "revoke":
            n = vsvc.records_revoke(actor=user, records=records, reason=reason)
            messages.success(request, _("已撤销 %(n)s 条服务记录。") % {"n": n})
        else:
            messages.error(request, _("请选择认定、退回或撤销。"))
    except InputError as exc:
        for err in exc.errors:
            messages.error(request, err)
    return redirect(back)


# -- the volunteer's own page ------------------------------------------------------------------------


@guarded
@require_http_methods(["GET", "POST"])
def me(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    v = vsvc.volunteer_of(user)
    if v is None:
        if getattr(user, "citizen", None) is None:
            return render(request, "community/me.html", {"v": None, "form": None})
        districts = OrgUnit.objects.filter(level=OrgUnit.Level.DISTRICT).order_by("sort", "code")
        form = VolunteerForm(request.POST or None, user=user, units=districts,
                             initial={"org_unit": user.citizen.district})
        if request.method == "POST" and form.is_valid():
            d = form.cleaned_data
            try:
                vsvc.volunteer_register(actor=user, name=d["name"], org_unit=d["org_unit"], phone=d["phone"],
                                        id_number=d["id_number"], is_info_officer=d["is_info_officer"],
                                        skills=d["skills"])
            except InputError as exc:
                _errors_to(form, exc)
            else:
                messages.success(request, _("您已登记为科技志愿者。"))
                return redirect("community:me")
        return render(request, "community/me.html", {"v": None, "form": form})
    hours_form = RecordForm(request.POST or None, user=user, own=v)
    if request.method == "POST" and hours_form.is_valid():
        try:
            vsvc.record_create(actor=user, volunteer=v, **_record_kwargs(hours_form.cleaned_data))
        except InputError as exc:
            _errors_to(hours_form, exc)
        else:
            messages.success(request, _("服务时长已提交，等待组织单位审核。"))
            return redirect("community:me")
    return render(request, "community/me.html", {
        "v": v, "form": hours_form, "own": True, "records": v.records.select_related("org_unit")[:200],
        "certificates": v.certificates.all()[:50], "year": timezone.localdate().year,
        "years": sorted({timezone.localtime(r.start).year for r in v.records.filter(status="approved")}, reverse=True)})


@guarded
@require_POST
def certificate_issue(request: HttpRequest, pk: int) -> HttpResponse:
    user = actor(request)
    v = _volunteer(user, pk)
    try:
        year = int(request.POST.get("year", ""))
        cert = vsvc.certificate_issue(actor=user, volunteer=v, year=year)
    except ValueError:
        messages.error(request, _("年份：请填写四位年份。"))
    except InputError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("证明已出具，可下载 PDF。"))
        own = v.user_id == user.pk
        return redirect("community:my_certificate_pdf" if own else "community:certificate_pdf", cert.pk)
    return redirect("community:me" if v.user_id == user.pk else "community:volunteer_detail",
                    *([] if v.user_id == user.pk else [v.pk]))


@guarded
@require_POST
def my_certificate_issue(request: HttpRequest) -> HttpResponse:
    v = vsvc.volunteer_of(request.user)
    if v is None:
        raise Http404(_("您还没有登记为志愿者。"))
    return certificate_issue(request, v.pk)


@guarded
def certificate_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    cert = vsvc.certificates_visible(request.user).filter(pk=pk).first()
    if cert is None:
        raise Http404(_("没有这份证明，或您无权查看。"))
    url = request.build_absolute_uri(reverse("community:verify", args=[cert.code]))
    response = HttpResponse(vsvc.certificate_pdf(cert, verify_url=url), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="certificate-{cert.pk}.pdf"'
    return response


def verify(request: HttpRequest, code: str) -> HttpResponse:
    """Public: anyone holding a certificate (or its QR code) checks it here."""
    result = vsvc.certificate_verify(code[:1000])
    return render(request, "community/verify.html", {"result": result, "cert": result.certificate},
                  status=200 if result.valid else 404)


# -- Excel -------------------------------------------------------------------------------------------


def _xlsx(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{name}-{dt.date.today():%Y%m%d}.xlsx"'
    return response


@guarded
def export(request: HttpRequest, kind: str) -> HttpResponse:
    user = _manager(request)
    if kind not in registry_io.KINDS:
        raise Http404(kind)
    unmasked = request.GET.get("unmasked") == "1"
    return _xlsx(registry_io.export(actor=user, kind=kind, unmasked=unmasked), kind)


@guarded
@require_POST
def import_(request: HttpRequest, kind: str) -> HttpResponse:
    user = _manager(request)
    if kind not in registry_io.KINDS:
        raise Http404(kind)
    back = {"experts": "community:experts", "volunteers": "community:volunteers", "records": "community:records",
            "teams": "community:teams"}[kind]
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("请选择要导入的 Excel 文件。"))
        return redirect(back)
    try:
        n = registry_io.import_(actor=user, kind=kind, content=read_upload(upload, kind="registry"),
                                name=upload.name or "upload.xlsx")
    except InputError as exc:
        messages.error(request, _("导入失败，没有写入任何一行："))
        for err in exc.errors[:50]:
            messages.error(request, err)
    else:
        messages.success(request, _("已导入 %(n)s 行。") % {"n": n})
    return redirect(back)
