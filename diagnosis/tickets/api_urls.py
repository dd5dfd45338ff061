from django.urls import path

from diagnosis.tickets import api as api_tickets

urlpatterns = [
    path("tickets", api_tickets.tickets_endpoint, name="api_tickets"),
]
