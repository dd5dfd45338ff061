"""/diagnose/: the troubleshooting wizard, its "did this solve it?" vote and thank-you page."""

from django.urls import path

from diagnosis.wizard import views as wizard

urlpatterns = [
    path("", wizard.wizard, name="wizard"),
    path("vote/", wizard.wizard_vote, name="wizard_vote"),
    path("thanks/", wizard.wizard_thanks, name="wizard_thanks"),
]
