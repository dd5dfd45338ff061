from django.urls import include, path, re_path

from config import api

urlpatterns = [
    path("openapi.json", api.openapi_document, name="api_openapi"),
    path("", include("knowledge.api_urls")),
    path("", include("diagnosis.wizard.api_urls")),
    path("", include("diagnosis.tickets.api_urls")),
    # [\s\S]: a path with a newline too (an inline (?s) flag would make URLs non-reversible)
    re_path(r"^(?P<path>[\s\S]*)$", api.not_found),
]
