from django.urls import re_path

from knowledge import api

urlpatterns = [
    re_path(r"^search/?$", api.search, name="api_search"),
    re_path(r"^codes/(?P<code>[^/]{1,16})/?$", api.code_detail, name="api_code_detail"),
]
