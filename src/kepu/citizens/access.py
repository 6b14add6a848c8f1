"""Who may open citizen pages: a logged-in user with a Citizen row. Staff accounts (users without
one) get 403; anonymous visitors go to the citizen login. Staff pages need no change: they ask for
a role, and a citizen has none (`CitizenConfinement` below sends a citizen who wanders there back
to the portal)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from kepu.citizens.selectors import citizen_of

ELDER_COOKIE = "kepu_elder"
# Paths a citizen's session may use; everything else is the staff side.
CITIZEN_PATHS = ("/me/", "/test/", "/kiosk/", "/i18n/", "/api/", "/static/", "/favicon", "/community/verify/",
                 "/facilities/open/", "/recognition/honours/")


def citizen_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """For citizen pages: sets `request.citizen`."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("citizens:login"))
        citizen = citizen_of(request.user)
        if citizen is None:
            raise PermissionDenied(_("这是市民页面，工作人员账户不能使用。"))
        request.citizen = citizen  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapped


def elder_mode(request: HttpRequest) -> bool:
    """Elder mode: remembered on the Citizen for citizens, in a cookie for anonymous visitors."""
    citizen = citizen_of(getattr(request, "user", None))
    if citizen is not None:
        return citizen.elder_mode
    return request.COOKIES.get(ELDER_COOKIE) == "1"


class CitizenConfinement:
    """A citizen's session reaches only the citizen side: staff pages redirect a citizen to the
    portal (pages) or answer 403 (anything else), before any staff view runs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if not path.startswith(CITIZEN_PATHS) and citizen_of(getattr(request, "user", None)) is not None:
            if request.method in ("GET", "HEAD"):
                return redirect("/me/")
            return HttpResponseForbidden(_("市民账户不能使用工作人员页面。"))
        return self.get_response(request)
