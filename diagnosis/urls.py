from django.urls import include, path

app_name = "diagnosis"

urlpatterns = [
    path("diagnose/", include("diagnosis.urls_wizard")),
    path("tickets/", include("diagnosis.urls_tickets")),
    path("desk/", include("diagnosis.urls_desk")),
]
