"""The catalogue's pages (other outreach pages are included from their own modules in kepu.urls)."""

from kepu.outreach.catalogue_views import app_name, urlpatterns

__all__ = ["app_name", "urlpatterns"]
