"""/desk/insight/ and /desk/incidents/: the decline dashboard, its CSVs, incidents per acquirer."""

from django.urls import path

from diagnosis.insight import views

urlpatterns = [
    path("insight/", views.dashboard, name="insight"),
    path("insight/<slug:chart>.csv", views.insight_csv, name="insight_csv"),
    path("incidents/", views.incident_list, name="incident_list"),
    path("incidents/<int:pk>/", views.incident_detail, name="incident_detail"),
    path("incidents/<int:pk>/status/", views.incident_status, name="incident_status"),
    path("incidents/<int:pk>/link/", views.incident_link, name="incident_link"),
    path(
        "incidents/<int:pk>/tickets/<str:number>/unlink/",
        views.incident_unlink,
        name="incident_unlink",
    ),
    path("incidents/<int:pk>/reply/", views.incident_reply, name="incident_reply"),
]
