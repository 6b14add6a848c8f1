"""Recognition pages: the public honours roll (/recognition/honours/), a unit's and a person's honours
(public), and the nominations console for officers (/recognition/nominations/: nominate, import and
export, review, award, revoke). Thin: the rules live in services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import OrgUnit
from kepu.core.scope import actor, scope_for
from kepu.core.uploads import max_size_label, read_upload
from kepu.recognition import excel, selectors, services
from kepu.recognition.models import Honour, HonourAward


def _errors(request: HttpRequest, e: InputError | PermissionDenied) -> None:
    for err in getattr(e, "errors", [str(e)]):
        messages.error(request, err)


def _group(rows: list[dict]) -> list[tuple[int, list[dict]]]:
    years: dict[int, list[dict]] = {}
    for r in rows:
        years.setdefault(r["year"], []).append(r)
    return sorted(years.items(), reverse=True)


def honours_public(request: HttpRequest) -> HttpResponse:
    """The public roll of honours in force, newest year first (no login)."""
    try:
        year = int(request.GET["year"]) if request.GET.get("year") else None
    except ValueError:
        year = None
    rows = [selectors.award_row(a) for a in selectors.awards_public(year=year)[:2000]]
    return render(request, "recognition/honours.html", {"years": _group(rows), "year": year})


def unit_honours(request: HttpRequest, code: str) -> HttpResponse:
    unit = OrgUnit.objects.filter(code=code).first()
    if unit is None:
        raise Http404(_("没有这个单位。"))
    rows = selectors.awards_for(org_unit_code=code)
    return render(request, "recognition/holder.html", {"title": unit.name_zh, "years": _group(rows)})


def person_honours(request: HttpRequest, user_id: int) -> HttpResponse:
    rows = selectors.awards_for(user_id=user_id)
    if not rows:
        raise Http404(_("没有找到此人的表彰记录。"))
    return render(request, "recognition/holder.html", {"title": rows[0]["nominee"], "years": _group(rows)})


def _staff(request: HttpRequest) -> User:
    user = actor(request)
    scope = scope_for(user)
    if not (scope.superuser or any(scope.paths.values())):
        raise DjangoPermissionDenied(_("只有办公室、审核员和辖市(区)填报员可以管理表彰推荐。"))
    return user


@login_required
def nominations(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    scope = scope_for(user)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "import":
                upload = request.FILES.get("file")
                if upload is None:
                    raise InputError(_("请选择要导入的 Excel 文件。"))
                made = excel.nominations_import(actor=user, content=read_upload(upload, kind="registry"),
                                                name=upload.name or "nominations.xlsx")
                messages.success(request, _("已导入 %(n)s 条推荐。") % {"n": len(made)})
            elif request.POST.get("action") == "honours" and scope.is_office_admin:
                city = OrgUnit.objects.filter(level="city").order_by("code").first()
                if city is not None:
                    services.plan_honours_ensure(actor=user, city=city)
                messages.success(request, _("已设置规划中的表彰项目。"))
            else:
                honour = Honour.objects.filter(pk=request.POST.get("honour") or 0, active=True).first()
                unit = OrgUnit.objects.filter(pk=request.POST.get("org_unit") or 0).first()
                if honour is None or unit is None:
                    raise InputError(_("请选择表彰项目和被推荐人所在单位。"))
                services.nomination_create(
                    actor=user, honour=honour, year=int(request.POST.get("year") or 0),
                    kind=request.POST.get("kind", ""), org_unit=unit, reason=request.POST.get("reason", ""),
                    person_name=request.POST.get("person_name", ""),
                    organisation=request.POST.get("organisation", ""),
                    collective_name=request.POST.get("collective_name", ""),
                    evidence=request.POST.get("evidence", ""))
                messages.success(request, _("推荐已提交。"))
        except ValueError as e:
            _errors(request, e if isinstance(e, InputError) else InputError(_("年度须为数字。")))
        except PermissionDenied as e:
            _errors(request, e)
        return redirect("recognition:nominations")
    units = OrgUnit.objects.filter(scope.unit_filter("", selectors.MANAGE_ROLES),
                                   level__in=["city", "district", "town"]).order_by("path")
    return render(request, "recognition/nominations.html", {
        "rows": selectors.nominations_visible(user)[:500], "honours": selectors.honours_active(), "units": units,
        "year": timezone.localdate().year, "is_office": scope.is_office_admin, "max_size": max_size_label("registry"),
    })


@login_required
def nominations_export(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    response = HttpResponse(excel.nominations_export(user),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = 'attachment; filename="nominations.xlsx"'
    return response


@login_required
def nomination_detail(request: HttpRequest, nomination_id: int) -> HttpResponse:
    user = _staff(request)
    n = selectors.nomination_for(user, nomination_id)
    if n is None:
        raise Http404(_("没有这条推荐，或您无权查看。"))
    scope = scope_for(user)
    award = HonourAward.objects.filter(nomination=n).first()
    if request.method == "POST":
        try:
            action = request.POST.get("action")
            if action == "review":
                raw = request.POST.get("score", "").strip()
                try:
                    score = int(raw) if raw else None
                except ValueError:
                    raise InputError(_("评分须为 0–100 的整数。")) from None
                services.nomination_review(actor=user, nomination=n, recommend=request.POST.get("recommend") == "1",
                                           score=score, comment=request.POST.get("comment", ""))
                messages.success(request, _("评审意见已保存。"))
            elif action == "award":
                services.award_decide(actor=user, nomination=n, certificate_no=request.POST.get("certificate_no", ""))
                messages.success(request, _("已授予；表彰数指标已更新。"))
            elif action == "decline":
                services.nomination_decline(actor=user, nomination=n, comment=request.POST.get("comment", ""))
                messages.success(request, _("已决定不予授予。"))
            elif action == "revoke" and award is not None:
                services.award_revoke(actor=user, award=award, reason=request.POST.get("reason", ""))
                messages.success(request, _("表彰已撤销；表彰数指标已更新。"))
        except (InputError, PermissionDenied) as e:
            _errors(request, e)
        return redirect("recognition:nomination", n.pk)
    own = user.pk in (n.nominated_by_id, n.nominee_user_id)
    return render(request, "recognition/nomination.html", {
        "n": n, "award": award, "reviews": selectors.reviews_of(n),
        "can_review": n.status == "submitted" and selectors.can_review(scope, n.org_unit) and not own,
        "can_decide": n.status == "submitted" and scope.is_office_admin and not own,
        "can_revoke": award is not None and not award.revoked and scope.is_office_admin,
    })
