from django.urls import path

from diagnosis.views.placeholder import placeholder

urlpatterns = [
    path("", placeholder, name="desk"),
]
