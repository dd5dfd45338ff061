from django.urls import path

from diagnosis.views.placeholder import placeholder

urlpatterns = [
    path("", placeholder, name="ticket_list"),
    path("new/", placeholder, name="ticket_new"),
    path("<str:number>/", placeholder, name="ticket_detail"),
]
