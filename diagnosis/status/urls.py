"""/status/ and its Atom feed."""

from django.urls import path

from diagnosis.status import feeds, views

urlpatterns = [
    path("", views.status, name="status"),
    path("feed/", feeds.StatusFeed(), name="status_feed"),
]
