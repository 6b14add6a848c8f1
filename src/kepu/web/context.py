from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from kepu.community.selectors import expert_profile
from kepu.core.models import Role
from kepu.core.scope import scope_for


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    scope = scope_for(user)
    return {"nav_can_report": scope.can_report_anything, "nav_can_review": scope.can_review_anything,
            "nav_is_admin": scope.is_office_admin,
            "nav_is_editor": scope.is_office_admin or bool(scope.paths.get(Role.EDITOR)),
            # The registries (experts, volunteers, venues, budgets …) are kept by the office and districts.
            "nav_keeps_registries": scope.is_office_admin or bool(scope.paths.get(Role.DISTRICT_REPORTER)),
            "nav_is_expert": expert_profile(user) is not None}
