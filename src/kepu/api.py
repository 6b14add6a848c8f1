"""The one django-ninja API, assembled from each app's router. OpenAPI at /api/docs."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, ValidationError
from ninja.security import django_auth

from kepu.core.api_auth import TokenAuth
from kepu.core.errors import InputError, PermissionDenied
from kepu.plans.api import router as plans_router

api = NinjaAPI(
    title="Kepu API",
    version="1",
    description="Plans, targets, status and observations of a citizen science-literacy action plan.",
    auth=[TokenAuth(), django_auth],
    urls_namespace="api",
    # Swagger UI comes from ninja's static files ("ninja" is in INSTALLED_APPS); no validator badge,
    # which would be an image from validator.swagger.io.
    docs=Swagger(settings={"validatorUrl": None}),
)


def _problem(request: HttpRequest, status: int, title: str, detail: str | list[str]) -> HttpResponse:
    """RFC 7807 problem details, one shape for every error the API returns."""
    body = {"type": "about:blank", "title": title, "status": status,
            "detail": detail if isinstance(detail, str) else "; ".join(detail)}
    if isinstance(detail, list):
        body["errors"] = detail
    response = api.create_response(request, body, status=status)
    response["Content-Type"] = "application/problem+json"
    return response


@api.exception_handler(InputError)
def _input_error(request: HttpRequest, exc: InputError) -> HttpResponse:
    return _problem(request, 422, "Invalid input", exc.errors)


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _problem(request, 403, "Forbidden", str(exc))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _problem(request, 404, "Not found", str(exc) or "Not found")


@api.exception_handler(ValidationError)
def _validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [f"{'.'.join(str(p) for p in e.get('loc', []))}: {e.get('msg')}" for e in exc.errors]
    return _problem(request, 422, "Invalid request", errors)


@api.exception_handler(AuthenticationError)
def _unauthorised(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _problem(request, 401, "Unauthorized", "Log in or send a valid token: Authorization: Bearer <token>.")


api.add_router("/", plans_router)
