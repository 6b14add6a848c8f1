"""The one django-ninja API, assembled from each app's router. OpenAPI at /api/docs."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Router, Schema, Swagger
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import SessionAuth as NinjaSessionAuth

from kepu.community.api import router as community_router
from kepu.core.api_auth import TokenAuth
from kepu.core.api_json import StrictJSONRenderer
from kepu.core.errors import InputError, PermissionDenied
from kepu.emergency.api import router as emergency_router
from kepu.events.api import router as events_router
from kepu.facilities.api import router as facilities_router
from kepu.funding.api import router as funding_router
from kepu.literacy.api import router as literacy_router
from kepu.outreach.api import router as outreach_router
from kepu.outreach.campaign_api import router as campaign_router
from kepu.outreach.engagement_api import router as engagement_router
from kepu.outreach.segment_api import router as segment_router
from kepu.plans.api import router as plans_router
from kepu.plans.deliverable_api import router as deliverable_router
from kepu.plans.progress_api import router as progress_router
from kepu.quiz.api import router as quiz_router
from kepu.recognition.api import router as recognition_router
from kepu.rumours.api import router as rumours_router


class Problem(Schema):
    """RFC 7807 problem details: the body of every error response."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[str] | None = None


# Every operation can answer these; a request body can also be too large (413).
PROBLEMS = {
    400: "Bad request: the body is not valid JSON, or the request is malformed.",
    401: "No valid token or session: send Authorization: Bearer <token>.",
    403: "The user's role or org-unit scope does not allow this (or a session request lacks its CSRF token).",
    404: "No such plan, observation, survey wave or endpoint in the user's scope.",
    422: "Invalid input: each problem is listed in `errors` with the field it concerns.",
}
BODY_PROBLEMS = {413: "The request body is larger than the server accepts."}


class SessionAuth(NinjaSessionAuth):
    """The browser session. Without a logged-in session there is nothing for CSRF to protect, so
    such a request is a 401 like any unauthenticated one, not a CSRF 403."""

    def _get_key(self, request: HttpRequest) -> str | None:
        if not request.user.is_authenticated:
            return None
        return super()._get_key(request)


class ObjectParser(Parser):
    """Every request body of this API is a JSON object. ninja would read any other JSON (a string,
    a list) as an empty object, so `"x"` would approve a value; refuse it as a 400 instead."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        data = super().parse_body(request)
        if not isinstance(data, dict):
            raise ValueError("the request body must be a JSON object")
        return data


class KepuAPI(NinjaAPI):
    def get_openapi_schema(self, **kwargs: Any) -> Any:
        """The generated schema plus the problem responses the error handlers below give."""
        schema = super().get_openapi_schema(**kwargs)
        schema["components"].setdefault("schemas", {})["Problem"] = Problem.model_json_schema()
        content = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for operations in schema["paths"].values():
            for operation in operations.values():
                for parameter in operation.get("parameters", []):
                    # ninja copies a schema's `examples` list up to the parameter, where OpenAPI wants a map
                    if isinstance(parameter.get("examples"), list):
                        del parameter["examples"]
                problems = {**PROBLEMS, **(BODY_PROBLEMS if "requestBody" in operation else {})}
                for status, description in problems.items():
                    operation["responses"].setdefault(str(status), {"description": description, "content": content})
        return schema


api = KepuAPI(
    title="Kepu API",
    version="1",
    description="Plans, targets, status and observations of a citizen science-literacy action plan; its literacy "
    "survey waves, their estimates and item statistics.",
    auth=[TokenAuth(), SessionAuth()],
    parser=ObjectParser(),
    renderer=StrictJSONRenderer(),  # an undefined number is null, never NaN/Infinity
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


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    """ninja's own refusals: an unparsable body (400), a session request without CSRF token (403)."""
    return _problem(request, exc.status_code, HTTPStatus(exc.status_code).phrase, exc.message)


@api.exception_handler(SuspiciousOperation)
def _bad_request(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
    if isinstance(exc, RequestDataTooBig):
        return _problem(request, 413, "Content too large", "The request body is larger than the server accepts.")
    return _problem(request, 400, "Bad request", "The request is malformed.")


fallback = Router()


@fallback.api_operation(["GET", "POST", "PUT", "PATCH", "DELETE"], "/{path:rest}", auth=None, include_in_schema=False)
def _no_such_endpoint(request: HttpRequest, rest: str) -> HttpResponse:
    """Unknown paths under /api/ answer like the API does, not with the site's HTML 404 page."""
    raise Http404(f"No API endpoint /api/{rest}.")


api.add_router("/", plans_router)
api.add_router("/", literacy_router)
api.add_router("/", progress_router)
api.add_router("/", deliverable_router)
api.add_router("/", quiz_router)
api.add_router("/", engagement_router)
api.add_router("/", outreach_router)
api.add_router("/", campaign_router)
api.add_router("/", segment_router)
api.add_router("/", community_router)
api.add_router("/", events_router)
api.add_router("/", facilities_router)
api.add_router("/", funding_router)
api.add_router("/", recognition_router)
api.add_router("/", emergency_router)
api.add_router("/", rumours_router)
api.add_router("/", fallback)  # last: its URL pattern matches every path
