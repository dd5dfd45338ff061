from django.urls import path

from diagnosis.views import desk

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
]
