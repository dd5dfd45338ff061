"""Root URLs: /healthz, the JSON API under /api/v1/ (config/api_urls.py), the language switch,
then every page in both languages (Chinese unprefixed, English under /en/): the admin, accounts,
the diagnosis features (diagnosis/urls.py) and the knowledge base (knowledge/urls.py).
"""

from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from config import metrics, views

handler500 = "diagnosis.core.middleware.server_error"  # a dead database answers 503, not 500

admin.site.site_header = "DeclineDesk"
admin.site.site_title = "DeclineDesk"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("api/v1/", include("config.api_urls")),
    path("i18n/setlang/", views.set_language, name="set_language"),
    path("i18n/", include("django.conf.urls.i18n")),
]

urlpatterns += i18n_patterns(
    path("admin/", admin.site.urls),
    path("accounts/", include("diagnosis.accounts.urls")),
    path("", include("diagnosis.urls")),
    path("", include("knowledge.urls")),
    prefix_default_language=False,
)
