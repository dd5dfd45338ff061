"""/desk/: the agents' queue, bulk actions and the agent's ticket page."""

from django.urls import path

from diagnosis.desk import live_views, tools, views

urlpatterns = [
    path("", views.queue, name="desk"),
    path("bulk/", views.bulk_action, name="desk_bulk"),
    path("digest/", views.digest_preference, name="desk_digest"),
    path("api-tokens/", live_views.staff_tokens, name="desk_api_tokens"),
    path(
        "api-tokens/<int:pk>/revoke/", live_views.staff_token_revoke, name="desk_api_token_revoke"
    ),
    path("views/", live_views.saved_view_create, name="desk_view_create"),
    path("views/<int:pk>/delete/", live_views.saved_view_delete, name="desk_view_delete"),
    path("tickets/<str:number>/presence/", live_views.presence, name="desk_ticket_presence"),
    path("tickets/<str:number>/", views.ticket_detail, name="desk_ticket"),
    path("tickets/<str:number>/reply/", views.ticket_reply, name="desk_ticket_reply"),
    path("tickets/<str:number>/note/", views.ticket_note, name="desk_ticket_note"),
    path("tickets/<str:number>/status/", views.ticket_status, name="desk_ticket_status"),
    path("tickets/<str:number>/assign/", views.ticket_assign, name="desk_ticket_assign"),
    path("tickets/<str:number>/priority/", views.ticket_priority, name="desk_ticket_priority"),
    # Desk tools: knowledge-base answers, macros, merge and link (diagnosis/desk/tools.py).
    path("tickets/<str:number>/kb/<slug:slug>/", tools.kb_draft, name="desk_kb_draft"),
    path("tickets/<str:number>/macros/<int:pk>/", tools.macro_draft, name="desk_macro_draft"),
    path("tickets/<str:number>/macros/<int:pk>/apply/", tools.macro_apply, name="desk_macro_apply"),
    path("tickets/<str:number>/merge/", tools.ticket_merge, name="desk_ticket_merge"),
    path("tickets/<str:number>/link/", tools.ticket_link, name="desk_ticket_link"),
    path(
        "tickets/<str:number>/unlink/<int:link_id>/", tools.ticket_unlink, name="desk_ticket_unlink"
    ),
]
