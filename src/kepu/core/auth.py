"""The login backend: Django's ModelBackend, with the user lookup that every logged-in request
makes read by plain SQL (kepu.core.plainsql says why)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.core.exceptions import ValidationError

from kepu.core import plainsql


class ModelBackend(DjangoModelBackend):
    def get_user(self, user_id: Any) -> Any:
        model = get_user_model()
        pk = model._meta.pk
        assert pk is not None
        try:
            value = pk.to_python(user_id)
        except ValidationError:  # a session whose user id is not one of ours
            return None
        found = plainsql.fetch(model, f"{pk.column} = %s", [value])
        if not found:
            return None
        user = found[0]
        return user if self.user_can_authenticate(user) else None
