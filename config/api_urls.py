"""/api/v1/: the one NinjaAPI, each feature's Router mounted on it, then a JSON 404 for the rest.

A new endpoint goes into its feature's `api.py` Router; a new feature's Router is added here.
"""

from django.urls import re_path

from config import api as shared
from diagnosis.desk.api import router as desk
from diagnosis.tickets.api import router as tickets
from diagnosis.wizard.api import router as wizard
from knowledge.api import router as knowledge

api = shared.DeclineDeskAPI(
    title="DeclineDesk API",
    version="1.0.0",
    description="Response codes, knowledge search, the troubleshooting wizard and "
    "declined-transaction tickets, and the agents' desk (staff tokens). "
    "Errors are JSON {error: {code, message, fields?}}.",
    servers=[{"url": "/"}],
    docs_url="/docs",
)
api.add_router("", knowledge)
api.add_router("", wizard)
api.add_router("", tickets)
api.add_router("", desk)

urlpatterns = [
    *api.url_patterns,
    # [\s\S]: a path with a newline too (an inline (?s) flag would make URLs non-reversible)
    re_path(r"^(?P<path>[\s\S]*)$", shared.not_found),
]
