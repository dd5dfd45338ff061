from django.http import HttpResponse
from django.urls import path

from config.urls import handler500  # noqa: F401 - a dead database answers 503 here too
from config.urls import urlpatterns as project_urlpatterns


def empty(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/empty", empty), *project_urlpatterns]
