from django.urls import include, path, re_path

from config import api

urlpatterns = [
    path("openapi.json", api.openapi_document, name="api_openapi"),
    path("", include("knowledge.api_urls")),
    path("", include("diagnosis.api_urls_wizard")),
    path("", include("diagnosis.api_urls_tickets")),
    re_path(r"(?s)^(?P<path>.*)$", api.not_found),  # (?s): a path with a newline too
]
