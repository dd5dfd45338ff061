"""Shared pieces of the JSON API under /api/v1/: errors, language, the OpenAPI document.

Each part describes its own endpoints in a module listed in OPENAPI_MODULES, as a dict `SPEC`
with "paths" and "components" → "schemas"; `openapi_document` merges them.
"""

import importlib
from contextlib import contextmanager

from django.http import JsonResponse
from django.utils import translation
from django.views.decorators.http import require_GET

OPENAPI_MODULES = ["knowledge.openapi", "diagnosis.wizard.openapi", "diagnosis.tickets.openapi"]


def json_error(code: str, message, status: int, fields: dict | None = None) -> JsonResponse:
    """The one error shape of the API: {"error": {"code", "message", "fields"?}} with a 4xx."""
    error = {"code": code, "message": str(message)}
    if fields:
        error["fields"] = {name: [str(m) for m in messages] for name, messages in fields.items()}
    return JsonResponse({"error": error}, status=status)


def api_language(request) -> str:
    """`?lang=en|zh-hans`, else the Accept-Language header, else Chinese."""
    requested = request.GET.get("lang", "")
    if requested in ("en", "zh-hans"):
        return requested
    return translation.get_language_from_request(request, check_path=False)


@contextmanager
def language_of(request):
    with translation.override(api_language(request)):
        yield


ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
        }
    },
}


def build_openapi() -> dict:
    document = {
        "openapi": "3.0.3",
        "info": {
            "title": "DeclineDesk API",
            "version": "1.0.0",
            "description": "Response codes, knowledge search, the troubleshooting wizard and "
            "declined-transaction tickets. Errors are JSON {error: {code, message, fields?}}.",
        },
        "servers": [{"url": "/"}],
        "paths": {},
        "components": {
            "schemas": {"Error": ERROR_SCHEMA},
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }
    for module in OPENAPI_MODULES:
        try:
            spec = importlib.import_module(module).SPEC
        except ModuleNotFoundError:
            continue
        document["paths"].update(spec.get("paths", {}))
        document["components"]["schemas"].update(spec.get("components", {}).get("schemas", {}))
    return document


@require_GET
def openapi_document(request):
    return JsonResponse(build_openapi(), json_dumps_params={"ensure_ascii": False})


def not_found(request, path=""):
    return json_error("not_found", "No such API endpoint.", 404)
