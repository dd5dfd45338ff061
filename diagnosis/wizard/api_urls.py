from django.urls import path

from diagnosis.wizard import views as wizard

urlpatterns = [
    path("wizard", wizard.wizard_api, name="api_wizard"),
]
