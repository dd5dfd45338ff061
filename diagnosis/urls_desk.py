from django.urls import path

from diagnosis.views import desk, insight

urlpatterns = [
    path("", desk.queue, name="desk"),
    path("bulk/", desk.bulk_action, name="desk_bulk"),
    path("tickets/<str:number>/", desk.ticket_detail, name="desk_ticket"),
    path("tickets/<str:number>/reply/", desk.ticket_reply, name="desk_ticket_reply"),
    path("tickets/<str:number>/note/", desk.ticket_note, name="desk_ticket_note"),
    path("tickets/<str:number>/status/", desk.ticket_status, name="desk_ticket_status"),
    path("tickets/<str:number>/assign/", desk.ticket_assign, name="desk_ticket_assign"),
    path("tickets/<str:number>/priority/", desk.ticket_priority, name="desk_ticket_priority"),
    path("escalations/", desk.escalation_list, name="escalation_list"),
    path("escalations/new/", desk.escalation_new, name="escalation_new"),
    path("escalations/<str:number>/", desk.escalation_detail, name="escalation_detail"),
    path("escalations/<str:number>/status/", desk.escalation_status, name="escalation_status"),
    path("escalations/<str:number>/discard/", desk.escalation_discard, name="escalation_discard"),
    path(
        "escalations/<str:number>/items/<int:item_id>/reference/",
        desk.escalation_reference,
        name="escalation_reference",
    ),
    path(
        "escalations/<str:number>/items/<int:item_id>/remove/",
        desk.escalation_remove_item,
        name="escalation_remove_item",
    ),
    path(
        "escalations/<str:number>/export.csv",
        desk.escalation_export_csv,
        name="escalation_export_csv",
    ),
    path(
        "escalations/<str:number>/export.xlsx",
        desk.escalation_export_xlsx,
        name="escalation_export_xlsx",
    ),
    path("escalations/<str:number>/print/", desk.escalation_print, name="escalation_print"),
    # Decline insight: dashboard, CSV per chart, incidents.
    path("insight/", insight.dashboard, name="insight"),
    path("insight/<slug:chart>.csv", insight.insight_csv, name="insight_csv"),
    path("incidents/", insight.incident_list, name="incident_list"),
    path("incidents/<int:pk>/", insight.incident_detail, name="incident_detail"),
    path("incidents/<int:pk>/status/", insight.incident_status, name="incident_status"),
    path("incidents/<int:pk>/link/", insight.incident_link, name="incident_link"),
    path(
        "incidents/<int:pk>/tickets/<str:number>/unlink/",
        insight.incident_unlink,
        name="incident_unlink",
    ),
    path("incidents/<int:pk>/reply/", insight.incident_reply, name="incident_reply"),
]
