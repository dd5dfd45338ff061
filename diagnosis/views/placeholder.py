"""TEMPORARY: placeholders so URL names exist while the real views are being written."""

from django.http import HttpResponse


def placeholder(request, *args, **kwargs):
    return HttpResponse("placeholder", status=501)
