"""/tickets/: the merchant's tickets (list, new, one ticket, replies, attachments) and API
tokens."""

from django.urls import path

from diagnosis.tickets import satisfaction_views
from diagnosis.tickets import views as tickets

urlpatterns = [
    path("", tickets.ticket_list, name="ticket_list"),
    path("new/", tickets.ticket_new, name="ticket_new"),
    path("incident-mail/", tickets.incident_mail_preference, name="ticket_incident_mail"),
    path("api-tokens/", tickets.api_tokens, name="ticket_api_tokens"),
    path("api-tokens/<int:pk>/revoke/", tickets.api_token_revoke, name="ticket_api_token_revoke"),
    path("rate/<str:token>/", satisfaction_views.rate_by_link, name="rate_by_link"),
    path("<str:number>/", tickets.ticket_detail, name="ticket_detail"),
    path("<str:number>/reply/", tickets.ticket_reply, name="ticket_reply"),
    path("<str:number>/close/", tickets.ticket_close, name="ticket_close"),
    path("<str:number>/reopen/", tickets.ticket_reopen, name="ticket_reopen"),
    path("<str:number>/rate/", satisfaction_views.rate_ticket, name="ticket_rate"),
    path(
        "<str:number>/attachments/<int:pk>/",
        tickets.ticket_attachment,
        name="ticket_attachment",
    ),
]
