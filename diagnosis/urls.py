"""The diagnosis app's pages, one include per feature package (namespace `diagnosis`)."""

from django.urls import include, path

app_name = "diagnosis"

urlpatterns = [
    path("diagnose/", include("diagnosis.wizard.urls")),
    path("tickets/", include("diagnosis.tickets.urls")),
    path("status/", include("diagnosis.status.urls")),
    path("desk/escalations/", include("diagnosis.escalations.urls")),
    path("desk/", include("diagnosis.insight.urls")),
    path("desk/", include("diagnosis.desk.urls")),
]
