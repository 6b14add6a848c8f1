"""Citizen feed pages (portal home /me/ and /me/feed/)."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
