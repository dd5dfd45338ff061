from django.urls import path

from diagnosis import api_tickets

urlpatterns = [
    path("tickets", api_tickets.tickets_endpoint, name="api_tickets"),
]
