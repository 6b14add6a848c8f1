"""Catalogue pages. Editors' console (/outreach/resources/…): list with filters and search, create and
edit, the review queue, review/return/publish/archive/restore, and partner-feed upload. Citizens:
search (/me/search/) and a resource's page (/me/r/<code>/). Thin: the rules live in services/selectors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import AuditEntry
from kepu.core.scope import actor, scope_for
from kepu.core.uploads import max_size_label, read_upload
from kepu.outreach import feeds, search, selectors, services
from kepu.outreach.content_import import UPLOAD_KIND
from kepu.outreach.models import FeedSource, Resource
from kepu.outreach.sanitize import clean_html
from kepu.outreach.vocab import AGE_BANDS, DIMENSIONS, KEY_GROUPS

S = Resource.Status


def _en() -> bool:
    return (get_language() or "zh-hans").startswith("en")


def _require_editor(request: HttpRequest) -> None:
    if not selectors.is_editor(scope_for(request.user)):
        raise DjangoPermissionDenied(_("只有科普内容编辑或领导小组办公室可以管理科普内容。"))


def _resource(request: HttpRequest, code: str) -> Resource:
    resource = selectors.console_resources(request.user).filter(code=code).first()
    if resource is None:
        raise Http404(_("没有这篇内容，或您无权查看。"))
    return resource


class ResourceForm(forms.Form):
    code = forms.SlugField(label=gettext_lazy("代码"), max_length=80,
                           help_text=gettext_lazy("只能用字母、数字、连字符，创建后不能修改。"))
    kind = forms.ChoiceField(label=gettext_lazy("类型"), choices=Resource.Kind.choices)
    title_zh = forms.CharField(label=gettext_lazy("标题（中文）"), max_length=200)
    title_en = forms.CharField(label=gettext_lazy("标题（英文）"), max_length=200, required=False)
    summary_zh = forms.CharField(label=gettext_lazy("摘要（中文）"), required=False,
                                 widget=forms.Textarea(attrs={"rows": 2}))
    summary_en = forms.CharField(label=gettext_lazy("摘要（英文）"), required=False,
                                 widget=forms.Textarea(attrs={"rows": 2}))
    body_zh = forms.CharField(label=gettext_lazy("正文（中文）"), required=False,
                              widget=forms.Textarea(attrs={"rows": 10}),
                              help_text=gettext_lazy("可用简单的 HTML（段落、加粗、列表、链接）；脚本和样式会被去除。"))
    body_en = forms.CharField(label=gettext_lazy("正文（英文）"), required=False,
                              widget=forms.Textarea(attrs={"rows": 6}))
    url = forms.CharField(label=gettext_lazy("链接（视频、音频、活动等）"), required=False, max_length=500)
    topics = forms.MultipleChoiceField(label=gettext_lazy("主题"), required=False,
                                       widget=forms.CheckboxSelectMultiple)
    dimensions = forms.MultipleChoiceField(label=gettext_lazy("素质维度"), required=False, choices=DIMENSIONS,
                                           widget=forms.CheckboxSelectMultiple)
    benchmarks = forms.CharField(label=gettext_lazy("对应基准（编号 1–26，用逗号分隔）"), required=False,
                                 max_length=100)
    key_groups = forms.MultipleChoiceField(label=gettext_lazy("重点人群"), required=False, choices=KEY_GROUPS,
                                           widget=forms.CheckboxSelectMultiple)
    age_bands = forms.MultipleChoiceField(label=gettext_lazy("年龄段"), required=False, choices=AGE_BANDS,
                                          widget=forms.CheckboxSelectMultiple)
    regions = forms.MultipleChoiceField(label=gettext_lazy("面向地区（不选即全市）"), required=False,
                                        widget=forms.SelectMultiple(attrs={"size": 8}),
                                        help_text=gettext_lazy("按住 Ctrl 键（Mac 上是 Command 键）可以多选。"))
    source = forms.CharField(label=gettext_lazy("来源"), required=False, max_length=200)
    source_url = forms.CharField(label=gettext_lazy("来源链接"), required=False, max_length=500)
    licence = forms.CharField(label=gettext_lazy("许可协议"), required=False, max_length=100)

    def __init__(self, *args: Any, user: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        en = _en()
        self.fields["topics"].choices = [  # type: ignore[attr-defined]
            (t.code, t.name_en if en else t.name_zh) for t in selectors.topics()]
        units = list(selectors.editable_units(scope_for(user)).select_related("parent"))
        self.fields["regions"].choices = [  # type: ignore[attr-defined]
            (u.code, _unit_label(u, en)) for u in units]
        if editing:
            self.fields["code"].disabled = True

    def data_for_service(self) -> dict[str, Any]:
        d = dict(self.cleaned_data)
        d["benchmarks"] = [b.strip() for b in d["benchmarks"].replace("，", ",").split(",") if b.strip()]
        return d


def _unit_label(unit: Any, en: bool) -> str:
    name = unit.name_en if en else unit.name_zh
    if unit.level == "town" and unit.parent is not None:
        return f"{unit.parent.name_en if en else unit.parent.name_zh} · {name}"
    return name


def _initial(resource: Resource) -> dict[str, Any]:
    values: dict[str, Any] = {f: getattr(resource, f) for f in (
        "code", "kind", "title_zh", "title_en", "summary_zh", "summary_en", "body_zh", "body_en", "url",
        "dimensions", "key_groups", "age_bands", "source", "source_url", "licence")}
    values["topics"] = [t.code for t in resource.topics.all()]
    values["regions"] = [u.code for u in resource.regions.all()]
    values["benchmarks"] = ", ".join(str(b) for b in resource.benchmarks)
    return values


@login_required
def resource_list(request: HttpRequest) -> HttpResponse:
    _require_editor(request)
    g = request.GET
    status = g.get("status", "") if g.get("status", "") in S.values else ""
    qs = selectors.console_resources(request.user, status=status, topic=g.get("topic", "")[:40],
                                     kind=g.get("kind", "")[:12], mine=g.get("mine") == "1")
    q = g.get("q", "").strip()[:100]
    if q:
        norm = search.normalise(q)
        qs = qs.filter(Q(title_zh__icontains=norm) | Q(title_en__icontains=q) | Q(summary_zh__icontains=norm)
                       | Q(code__icontains=q))
    page = Paginator(qs.order_by("-updated_at", "code"), 50).get_page(g.get("page"))
    return render(request, "outreach/resource_list.html", {
        "page": page, "q": q, "status": status, "topic": g.get("topic", ""), "kind": g.get("kind", ""),
        "mine": g.get("mine") == "1", "statuses": S.choices, "kinds": Resource.Kind.choices,
        "topics": selectors.topics(), "counts": _counts(request)})


def _counts(request: HttpRequest) -> dict[str, int]:
    ids = selectors.console_resources(request.user).order_by().values("pk")
    rows = Resource.objects.filter(pk__in=ids).order_by().values_list("status").annotate(n=Count("pk"))
    return {**dict.fromkeys(S.values, 0), **dict(rows)}


@login_required
@require_http_methods(["GET", "POST"])
def resource_edit(request: HttpRequest, code: str | None = None) -> HttpResponse:
    _require_editor(request)
    resource = _resource(request, code) if code is not None else None
    if resource is not None and not selectors.can_edit(scope_for(request.user), resource):
        raise DjangoPermissionDenied(_("您只能编辑本辖区的内容。"))
    form = ResourceForm(request.POST or None, user=request.user, editing=resource is not None,
                        initial=_initial(resource) if resource else {"kind": Resource.Kind.ARTICLE})
    if request.method == "POST" and form.is_valid():
        try:
            if resource is None:
                saved = services.resource_create(actor=actor(request), data=form.data_for_service())
            else:
                saved = services.resource_update(actor=actor(request), resource=resource,
                                                 data=form.data_for_service())
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(str(exc)) from exc
        except InputError as exc:
            for e in exc.errors:
                form.add_error(None, e)
        else:
            messages.success(request, _("已保存。内容需由另一位编辑审核后才能发布。"))
            return redirect("outreach:detail", code=saved.code)
    return render(request, "outreach/resource_form.html", {"form": form, "resource": resource})


@login_required
def resource_detail(request: HttpRequest, code: str) -> HttpResponse:
    """The review page: the piece as citizens will see it, its tags, its workflow buttons and history."""
    _require_editor(request)
    resource = _resource(request, code)
    scope = scope_for(request.user)
    editable = selectors.can_edit(scope, resource)
    own = resource.author_id == request.user.pk
    from kepu.web.audit import action_label

    entries = AuditEntry.objects.filter(object_type="outreach.resource", object_id=str(resource.pk)).order_by("-at")
    history = [{"at": e.at, "actor_label": e.actor_label, "action_label": action_label(e), "comment": e.comment}
               for e in entries[:30]]
    return render(request, "outreach/resource_detail.html", {
        "r": resource, "editable": editable, "own": own, "history": history,
        "can_review": editable and resource.status == S.DRAFT and not own,
        "can_publish": editable and resource.status == S.REVIEWED,
        "can_return": editable and (resource.status == S.REVIEWED or (resource.status == S.DRAFT and not own)),
        "can_archive": editable and resource.status != S.ARCHIVED,
        "can_restore": editable and resource.status == S.ARCHIVED,
        "labels": _labels(resource), "body_zh": clean_html(resource.body_zh), "body_en": clean_html(resource.body_en)})


def _labels(resource: Resource) -> dict[str, list[str]]:
    names = {**dict(DIMENSIONS), **dict(KEY_GROUPS), **dict(AGE_BANDS)}
    return {f: [str(names.get(c, c)) for c in getattr(resource, f)] for f in ("dimensions", "key_groups", "age_bands")}


ACTIONS: dict[str, tuple[Callable[..., Resource], Any]] = {
    "review": (services.resource_review, gettext_lazy("已审核，可以发布了。")),
    "return": (services.resource_return, gettext_lazy("已退回修改。")),
    "publish": (services.resource_publish, gettext_lazy("已发布，市民可以看到了。")),
    "archive": (services.resource_archive, gettext_lazy("已归档，市民不再看到。")),
    "restore": (services.resource_restore, gettext_lazy("已恢复为草稿。")),
}


@login_required
@require_POST
def resource_action(request: HttpRequest, code: str, action: str) -> HttpResponse:
    _require_editor(request)
    resource = _resource(request, code)
    if action not in ACTIONS:
        raise Http404(_("没有这个操作。"))
    service, done = ACTIONS[action]
    kwargs: dict[str, Any] = {"actor": actor(request), "resource": resource}
    if action in ("review", "return"):
        kwargs["comment"] = request.POST.get("comment", "")[:500]
    try:
        service(**kwargs)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc)) from exc
    except InputError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, str(done))
    return redirect("outreach:detail", code=resource.code)


@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    _require_editor(request)
    items = list(selectors.review_queue(actor(request)))
    return render(request, "outreach/review_queue.html", {
        "drafts": [r for r in items if r.status == S.DRAFT], "reviewed": [r for r in items if r.status == S.REVIEWED]})


@login_required
@require_http_methods(["GET", "POST"])
def feed_upload(request: HttpRequest) -> HttpResponse:
    _require_editor(request)
    if not selectors.edits_whole_city(scope_for(request.user)):
        raise DjangoPermissionDenied(_("只有市级科普内容编辑可以导入合作方内容。"))
    errors: list[str] = []
    if request.method == "POST":
        upload = request.FILES.get("file")
        code = request.POST.get("source", "").strip()
        try:
            if upload is None or not code:
                raise InputError(_("请选择来源并上传文件。"))
            content = read_upload(upload, kind=UPLOAD_KIND)
            source = feeds.feed_source_ensure(code=code, name_zh=request.POST.get("name", "").strip()[:100],
                                              format=feeds.sniff_format(content), actor=actor(request))
            counts = feeds.feed_import(source=source, content=content, name=upload.name or "feed",
                                       actor=actor(request))
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(str(exc)) from exc
        except InputError as exc:
            errors = exc.errors
        else:
            messages.success(request, _("已导入 %(created)s 篇草稿，跳过已导入的 %(skipped)s 篇。") % counts)
            return redirect(f"{_list_url()}?status=draft")
    return render(request, "outreach/feed_upload.html", {
        "sources": FeedSource.objects.all(), "errors": errors, "max_size": max_size_label(UPLOAD_KIND)})


def _list_url() -> str:
    from django.urls import reverse

    return reverse("outreach:list")


# -- citizens ------------------------------------------------------------------------------------------


def _citizen_or_visitor(request: HttpRequest) -> Any:
    """Citizen pages: a visitor who is not logged in may read and search; a staff account may not."""
    from kepu.citizens.selectors import citizen_of

    if not request.user.is_authenticated:
        return None
    citizen = citizen_of(request.user)
    if citizen is None:
        raise DjangoPermissionDenied(_("这是市民页面，工作人员账户不能使用。"))
    return citizen


def _visitor(request: HttpRequest, citizen: Any) -> str:
    """A visitor without an account searches under the day's pseudonym (kepu.outreach.engagement)."""
    from kepu.core.ratelimit import client_key
    from kepu.outreach.engagement import visitor_pseudonym

    return "" if citizen is not None else visitor_pseudonym(client_key(request))


def _record(citizen: Any, kind: str, **kwargs: Any) -> None:
    from kepu.outreach.engagement import record

    record(citizen, kind, **kwargs)


def citizen_search(request: HttpRequest) -> HttpResponse:
    citizen = _citizen_or_visitor(request)
    q = request.GET.get("q", "").strip()[:100]
    results = search.search(q, limit=30) if q else []
    if q:
        _record(citizen, "search", query=q, visitor=_visitor(request, citizen))
    en = _en()
    rows = [{"r": r, "title": r.title_en if en and r.title_en else r.title_zh,
             "summary": r.summary_en if en and r.summary_en else r.summary_zh} for r, _score in results]
    return render(request, "outreach/search.html", {"q": q, "rows": rows})


def citizen_resource(request: HttpRequest, code: str) -> HttpResponse:
    citizen = _citizen_or_visitor(request)
    resource = selectors.published_resources().filter(code=code).first()
    if resource is None:
        raise Http404(_("没有这篇内容，或它已下线。"))
    if citizen is not None:
        _record(citizen, "view", resource=resource)
    en = _en() and bool(resource.title_en)
    return render(request, "outreach/resource_page.html", {
        "r": resource, "title": resource.title_en if en else resource.title_zh,
        "summary": resource.summary_en if en else resource.summary_zh,
        "body": clean_html(resource.body_en if en and resource.body_en else resource.body_zh),
        "labels": _labels(resource)})


app_name = "outreach"

urlpatterns = [
    path("outreach/resources/", resource_list, name="list"),
    path("outreach/resources/new/", resource_edit, name="new"),
    path("outreach/resources/review/", review_queue, name="review"),
    path("outreach/resources/feeds/", feed_upload, name="feeds"),
    path("outreach/resources/<slug:code>/", resource_detail, name="detail"),
    path("outreach/resources/<slug:code>/edit/", resource_edit, name="edit"),
    path("outreach/resources/<slug:code>/<slug:action>/", resource_action, name="action"),
    path("me/search/", citizen_search, name="search"),
    path("me/r/<slug:code>/", citizen_resource, name="resource"),
]
