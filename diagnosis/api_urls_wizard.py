from django.urls import path

from diagnosis.views import wizard

urlpatterns = [
    path("wizard", wizard.wizard_api, name="api_wizard"),
]
