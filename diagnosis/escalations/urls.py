"""/desk/escalations/: batches of tickets escalated to an acquiring bank, and their exports."""

from django.urls import path

from diagnosis.escalations import views

urlpatterns = [
    path("", views.escalation_list, name="escalation_list"),
    path("new/", views.escalation_new, name="escalation_new"),
    path("<str:number>/", views.escalation_detail, name="escalation_detail"),
    path("<str:number>/status/", views.escalation_status, name="escalation_status"),
    path("<str:number>/send/", views.escalation_send, name="escalation_send"),
    path("<str:number>/replies/", views.escalation_import, name="escalation_import"),
    path(
        "<str:number>/replies/confirm/",
        views.escalation_import_confirm,
        name="escalation_import_confirm",
    ),
    path("<str:number>/discard/", views.escalation_discard, name="escalation_discard"),
    path(
        "<str:number>/items/<int:item_id>/reference/",
        views.escalation_reference,
        name="escalation_reference",
    ),
    path(
        "<str:number>/items/<int:item_id>/remove/",
        views.escalation_remove_item,
        name="escalation_remove_item",
    ),
    path("<str:number>/export.csv", views.escalation_export_csv, name="escalation_export_csv"),
    path("<str:number>/export.xlsx", views.escalation_export_xlsx, name="escalation_export_xlsx"),
    path("<str:number>/print/", views.escalation_print, name="escalation_print"),
]
