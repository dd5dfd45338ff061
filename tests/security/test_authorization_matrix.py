"""Who gets what, for EVERY URL pattern of the project.

The patterns come from the URL resolver (includes followed, admin and API included; the Chinese,
unprefixed, variant of the i18n patterns — the English ones are the same patterns under /en/).
Each has an entry in TABLE (or, for the admin's generated patterns, a rule): the outcome expected
for anonymous, merchant A, merchant B (on A's objects), an agent, a knowledge editor and a
superuser. A pattern that is neither in the table nor covered by the admin rule fails the test, so
a new URL must be classified here before it ships.

Outcomes: an HTTP status, "login" (redirect to the site login), "admin_login" (redirect to the
admin login), "redirect" (any other redirect). Object URLs use merchant A's real objects.
"""

import re
from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from diagnosis.core.roles import KNOWLEDGE_EDITORS, ROLE_MODEL_PERMISSIONS
from tests import factories

ROLES = ("anonymous", "merchant_a", "merchant_b", "agent", "editor", "superuser")
GET, POST = "get", "post"
LOGIN, ADMIN_LOGIN, REDIRECT = "login", "admin_login", "redirect"


def walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            assert isinstance(pattern, URLPattern)
            yield prefix + str(pattern.pattern)


def project_routes() -> list[str]:
    return sorted(set(walk(get_resolver().url_patterns)))


def outcome(response):
    if response.status_code in (301, 302, 303):
        location = response["Location"]
        if "/admin/login/" in location:
            return ADMIN_LOGIN
        if "/accounts/login/" in location:
            return LOGIN
        return REDIRECT
    return response.status_code


@dataclass
class E:
    """Expected outcome per role; `merchant_b` defaults to merchant A's outcome unless given."""

    method: str
    url: object  # str or callable(world) -> str
    anonymous: object
    merchant_a: object
    agent: object
    editor: object
    superuser: object
    merchant_b: object = None
    data: dict = field(default_factory=dict)

    def expected(self, role):
        value = getattr(self, role)
        if role == "merchant_b" and value is None:
            return self.merchant_a
        return value


def _t(w):
    return w.ticket.number


def _b(w):
    return w.batch.number


def _i(w):
    """An incident of merchant A's acquirer with A's ticket linked (decline insight)."""
    from diagnosis.models import Incident

    incident = Incident.objects.filter(acquirer_id=w.ticket.acquirer_id).first()
    if incident is None:
        incident = Incident.objects.create(
            acquirer_id=w.ticket.acquirer_id,
            started_at=w.ticket.created_at,
            last_ticket_at=w.ticket.created_at,
            merchant_count=1,
        )
        incident.tickets.add(w.ticket)
    return incident.pk


def _saved_view(w):
    """A view shared by the agent (deleted by the agent's request)."""
    from diagnosis.models import SavedView

    view = SavedView.objects.filter(owner=w.agent).first()
    if view is None:
        view = SavedView.objects.create(owner=w.agent, name="Shared", shared=True)
    return view.pk


def _staff_token(w):
    from diagnosis.desk.api_tokens import staff_token_create
    from diagnosis.models import StaffApiToken

    token = StaffApiToken.objects.filter(user=w.agent).first()
    return (token or staff_token_create(user=w.agent)[0]).pk


def _m(w):
    """An active reply macro (desk tools)."""
    from diagnosis.models import Macro

    macro = Macro.objects.first() or Macro.objects.create(
        name_zh="模板", name_en="Macro", body_zh="工单 {ticket}", body_en="Ticket {ticket}"
    )
    return macro.pk


# Merchant pages: anonymous → login, merchant A → allowed, merchant B → 404 on A's objects,
# everybody without a merchant (agents, editors, superusers) → 403.
def merchant_obj(method, url, ok, **kw):
    return E(method, url, LOGIN, ok, 403, 403, 403, merchant_b=kw.pop("merchant_b", 404), **kw)


def desk(method, url, ok, **kw):
    """Agents' desk: merchants and editors 403, agents and superusers allowed."""
    return E(method, url, LOGIN, 403, ok, 403, ok, merchant_b=403, **kw)


def desk_once(method, url, ok, **kw):
    """A desk action that deletes its object: the agent's request does it, the superuser's 404s."""
    return E(method, url, LOGIN, 403, ok, 403, 404, merchant_b=403, **kw)


def public(method, url, ok=200, **kw):
    return E(method, url, ok, ok, ok, ok, ok, merchant_b=ok, **kw)


TABLE = {
    # -- infrastructure -------------------------------------------------------------------------
    "healthz": public(GET, "/healthz"),
    # The test client is this machine (127.0.0.1): allowed. From elsewhere only staff get it
    # (tests/foundation/test_metrics.py).
    "metrics": public(GET, "/metrics"),
    "i18n/setlang/": public(POST, "/i18n/setlang/", REDIRECT, data={"language": "en"}),
    # -- API: tokens only, a session never authenticates (so CSRF cannot be abused) -------------
    "api/v1/openapi.json": public(GET, "/api/v1/openapi.json"),
    # The interactive docs page (Swagger UI from django-ninja's own static files): staff only.
    "api/v1/docs": E(GET, "/api/v1/docs", ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 200, 200),
    "api/v1/": public(GET, "/api/v1/", 404),  # the API's root is no endpoint
    "api/v1/search": public(GET, "/api/v1/search?q=51"),
    "api/v1/search/": public(GET, "/api/v1/search/?q=51"),
    "api/v1/codes/<apicode:code>": public(GET, "/api/v1/codes/51"),
    "api/v1/codes/<apicode:code>/": public(GET, "/api/v1/codes/51/"),
    "api/v1/wizard": public(GET, "/api/v1/wizard"),
    "api/v1/tickets": public(GET, "/api/v1/tickets", 401),
    r"api/v1/^(?P<path>[\s\S]*)$": public(GET, "/api/v1/nope", 404),
    # the agents' API: staff tokens only (tests/diagnosis/test_desk_api.py), never a session
    "api/v1/desk/tickets": public(GET, "/api/v1/desk/tickets", 401),
    "api/v1/desk/tickets/<number>": public(GET, lambda w: f"/api/v1/desk/tickets/{_t(w)}", 401),
    "api/v1/desk/tickets/<number>/replies": public(
        POST, lambda w: f"/api/v1/desk/tickets/{_t(w)}/replies", 401
    ),
    "api/v1/desk/tickets/<number>/status": public(
        POST, lambda w: f"/api/v1/desk/tickets/{_t(w)}/status", 401
    ),
    "api/v1/desk/tickets/<number>/assignment": public(
        POST, lambda w: f"/api/v1/desk/tickets/{_t(w)}/assignment", 401
    ),
    # -- accounts -------------------------------------------------------------------------------
    "accounts/login/": E(GET, "/accounts/login/", 200, REDIRECT, REDIRECT, REDIRECT, REDIRECT),
    "accounts/logout/": public(POST, "/accounts/logout/", REDIRECT),
    "accounts/password/change/": E(GET, "/accounts/password/change/", LOGIN, 200, 200, 200, 200),
    "accounts/password/change/done/": E(
        GET, "/accounts/password/change/done/", LOGIN, 200, 200, 200, 200
    ),
    # Two-factor pages: every signed-in user may manage their own; the code page sends a
    # signed-in session on (staff: already verified; merchants: to set one up).
    "accounts/two-factor/": E(GET, "/accounts/two-factor/", LOGIN, 200, 200, 200, 200),
    "accounts/two-factor/verify/": E(
        GET, "/accounts/two-factor/verify/", LOGIN, REDIRECT, REDIRECT, REDIRECT, REDIRECT
    ),
    "accounts/two-factor/setup/": E(GET, "/accounts/two-factor/setup/", LOGIN, 200, 200, 200, 200),
    "accounts/two-factor/recovery-codes/": E(
        GET, "/accounts/two-factor/recovery-codes/", LOGIN, REDIRECT, REDIRECT, REDIRECT, REDIRECT
    ),
    "accounts/two-factor/disable/": E(
        POST, "/accounts/two-factor/disable/", LOGIN, REDIRECT, REDIRECT, REDIRECT, REDIRECT
    ),
    "accounts/password/reset/": public(GET, "/accounts/password/reset/"),
    "accounts/password/reset/sent/": public(GET, "/accounts/password/reset/sent/"),
    "accounts/password/reset/<uidb64>/<token>/": public(
        GET, "/accounts/password/reset/MQ/bad-token/"
    ),
    "accounts/password/reset/complete/": public(GET, "/accounts/password/reset/complete/"),
    # -- knowledge: public ----------------------------------------------------------------------
    "": public(GET, "/"),
    "search/": public(GET, "/search/?q=余额"),
    "search/open/": public(GET, "/search/open/?q=余额&to=c:51", REDIRECT),
    "codes/": public(GET, "/codes/"),
    "codes/<str:code>/": public(GET, "/codes/51/"),
    "categories/<slug:key>/": public(GET, lambda w: f"/categories/{w.category.key}/"),
    "articles/<slug:slug>/": public(GET, lambda w: f"/articles/{w.article.slug}/"),
    "articles/<slug:slug>/vote/": public(
        POST, lambda w: f"/articles/{w.article.slug}/vote/", REDIRECT, data={"helpful": "yes"}
    ),
    "announcements/": public(GET, "/announcements/"),
    "status/": public(GET, "/status/"),
    "status/feed/": public(GET, "/status/feed/"),
    "announcements/<int:pk>/": public(GET, lambda w: f"/announcements/{w.announcement.pk}/"),
    # -- wizard: public -------------------------------------------------------------------------
    "diagnose/": public(GET, "/diagnose/"),
    "diagnose/vote/": public(POST, "/diagnose/vote/", 400),
    "diagnose/thanks/": public(GET, "/diagnose/thanks/"),
    # -- merchant tickets -----------------------------------------------------------------------
    "tickets/": merchant_obj(GET, "/tickets/", 200, merchant_b=200),
    "tickets/new/": merchant_obj(GET, "/tickets/new/", 200, merchant_b=200),
    "tickets/incident-mail/": merchant_obj(
        POST, "/tickets/incident-mail/", REDIRECT, merchant_b=REDIRECT
    ),
    "tickets/api-tokens/": merchant_obj(GET, "/tickets/api-tokens/", 200, merchant_b=200),
    "tickets/api-tokens/<int:pk>/revoke/": merchant_obj(
        POST, lambda w: f"/tickets/api-tokens/{w.token.pk}/revoke/", REDIRECT
    ),
    # Agents (and superusers) are sent to the same ticket on the desk.
    "tickets/<str:number>/": E(
        GET, lambda w: f"/tickets/{_t(w)}/", LOGIN, 200, REDIRECT, 403, REDIRECT, merchant_b=404
    ),
    "tickets/<str:number>/reply/": merchant_obj(POST, lambda w: f"/tickets/{_t(w)}/reply/", 200),
    "tickets/<str:number>/close/": merchant_obj(
        POST, lambda w: f"/tickets/{_t(w)}/close/", REDIRECT
    ),
    "tickets/<str:number>/reopen/": merchant_obj(
        POST, lambda w: f"/tickets/{_t(w)}/reopen/", REDIRECT
    ),
    # Who may see the ticket may download; anyone else gets 404 (no probing of attachment ids).
    "tickets/<str:number>/attachments/<int:pk>/": E(
        GET,
        lambda w: f"/tickets/{_t(w)}/attachments/{w.attachment.pk}/",
        LOGIN,
        200,
        200,
        404,
        200,
        merchant_b=404,
    ),
    # Satisfaction: the merchant rates a resolved ticket (A's ticket is not resolved: 403); the
    # e-mail's signed link needs no login (a bad signature is a 404 for everyone).
    "tickets/<str:number>/rate/": E(
        POST, lambda w: f"/tickets/{_t(w)}/rate/", LOGIN, 403, 403, 403, 403, merchant_b=404
    ),
    "tickets/rate/<str:token>/": public(GET, "/tickets/rate/bad-token/", 404),
    # -- agents' desk ---------------------------------------------------------------------------
    "desk/": desk(GET, "/desk/", 200),
    "desk/bulk/": desk(POST, "/desk/bulk/", REDIRECT),
    "desk/digest/": desk(POST, "/desk/digest/", REDIRECT, data={"daily_digest": "on"}),
    "desk/tickets/<str:number>/": desk(GET, lambda w: f"/desk/tickets/{_t(w)}/", 200),
    "desk/tickets/<str:number>/reply/": desk(POST, lambda w: f"/desk/tickets/{_t(w)}/reply/", 400),
    "desk/tickets/<str:number>/note/": desk(POST, lambda w: f"/desk/tickets/{_t(w)}/note/", 400),
    "desk/tickets/<str:number>/status/": desk(
        POST, lambda w: f"/desk/tickets/{_t(w)}/status/", 400
    ),
    "desk/tickets/<str:number>/assign/": desk(
        POST, lambda w: f"/desk/tickets/{_t(w)}/assign/", REDIRECT
    ),
    "desk/tickets/<str:number>/priority/": desk(
        POST, lambda w: f"/desk/tickets/{_t(w)}/priority/", 400
    ),
    "desk/tickets/<str:number>/presence/": desk(
        POST, lambda w: f"/desk/tickets/{_t(w)}/presence/", REDIRECT
    ),
    "desk/views/": desk(POST, "/desk/views/", REDIRECT, data={"name": "Mine"}),
    "desk/views/<int:pk>/delete/": desk_once(
        POST, lambda w: f"/desk/views/{_saved_view(w)}/delete/", REDIRECT
    ),
    "desk/api-tokens/": desk(GET, "/desk/api-tokens/", 200),
    # an agent revokes their own token; the superuser's request is a 404 (not theirs)
    "desk/api-tokens/<int:pk>/revoke/": E(
        POST,
        lambda w: f"/desk/api-tokens/{_staff_token(w)}/revoke/",
        LOGIN,
        403,
        REDIRECT,
        403,
        404,
        merchant_b=403,
    ),
    # Desk tools: knowledge-base answers, macros, merge and link.
    "desk/tickets/<str:number>/kb/<slug:slug>/": desk(
        GET, lambda w: f"/desk/tickets/{_t(w)}/kb/{w.article.slug}/", 200
    ),
    "desk/tickets/<str:number>/macros/<int:pk>/": desk(
        GET, lambda w: f"/desk/tickets/{_t(w)}/macros/{_m(w)}/", 200
    ),
    "desk/tickets/<str:number>/macros/<int:pk>/apply/": desk(
        POST, lambda w: f"/desk/tickets/{_t(w)}/macros/{_m(w)}/apply/", REDIRECT
    ),
    "desk/tickets/<str:number>/merge/": desk(
        POST, lambda w: f"/desk/tickets/{_t(w)}/merge/", REDIRECT
    ),
    "desk/tickets/<str:number>/link/": desk(
        POST, lambda w: f"/desk/tickets/{_t(w)}/link/", REDIRECT
    ),
    "desk/tickets/<str:number>/unlink/<int:link_id>/": desk(
        POST, lambda w: f"/desk/tickets/{_t(w)}/unlink/0/", REDIRECT
    ),
    "desk/escalations/": desk(GET, "/desk/escalations/", 200),
    "desk/escalations/new/": desk(POST, "/desk/escalations/new/", REDIRECT),
    "desk/escalations/<str:number>/": desk(GET, lambda w: f"/desk/escalations/{_b(w)}/", 200),
    "desk/escalations/<str:number>/status/": desk(
        POST, lambda w: f"/desk/escalations/{_b(w)}/status/", REDIRECT
    ),
    # The agent (tried first) discards the draft batch: the superuser then finds nothing.
    "desk/escalations/<str:number>/discard/": desk_once(
        POST, lambda w: f"/desk/escalations/{_b(w)}/discard/", REDIRECT
    ),
    "desk/escalations/<str:number>/items/<int:item_id>/reference/": desk(
        POST, lambda w: f"/desk/escalations/{_b(w)}/items/{w.item.pk}/reference/", 400
    ),
    "desk/escalations/<str:number>/items/<int:item_id>/remove/": desk_once(
        POST, lambda w: f"/desk/escalations/{_b(w)}/items/{w.item.pk}/remove/", REDIRECT
    ),
    "desk/escalations/<str:number>/send/": desk(
        POST, lambda w: f"/desk/escalations/{_b(w)}/send/", REDIRECT
    ),
    "desk/escalations/<str:number>/replies/": desk(
        POST, lambda w: f"/desk/escalations/{_b(w)}/replies/", 400
    ),
    "desk/escalations/<str:number>/replies/confirm/": desk(
        POST, lambda w: f"/desk/escalations/{_b(w)}/replies/confirm/", REDIRECT
    ),
    "desk/escalations/<str:number>/export.csv": desk(
        GET, lambda w: f"/desk/escalations/{_b(w)}/export.csv", 200
    ),
    "desk/escalations/<str:number>/export.xlsx": desk(
        GET, lambda w: f"/desk/escalations/{_b(w)}/export.xlsx", 200
    ),
    "desk/escalations/<str:number>/print/": desk(
        GET, lambda w: f"/desk/escalations/{_b(w)}/print/", 200
    ),
    # -- decline insight and incidents (agents only) ----------------------------------------------
    "desk/insight/": desk(GET, "/desk/insight/", 200),
    "desk/insight/<slug:chart>.csv": desk(GET, "/desk/insight/codes.csv", 200),
    "desk/incidents/": desk(GET, "/desk/incidents/", 200),
    "desk/incidents/<int:pk>/": desk(GET, lambda w: f"/desk/incidents/{_i(w)}/", 200),
    "desk/incidents/<int:pk>/status/": desk(
        POST, lambda w: f"/desk/incidents/{_i(w)}/status/", REDIRECT
    ),
    "desk/incidents/<int:pk>/link/": desk(POST, lambda w: f"/desk/incidents/{_i(w)}/link/", 400),
    "desk/incidents/<int:pk>/tickets/<str:number>/unlink/": desk(
        POST, lambda w: f"/desk/incidents/{_i(w)}/tickets/{_t(w)}/unlink/", REDIRECT
    ),
    "desk/incidents/<int:pk>/reply/": desk(POST, lambda w: f"/desk/incidents/{_i(w)}/reply/", 400),
}

# -- the admin, by rule ---------------------------------------------------------------------------
EDITOR_MODELS = {
    f"{app}/{model}"
    for app, models in ROLE_MODEL_PERMISSIONS[KNOWLEDGE_EDITORS].items()
    for model in models
}
ADMIN_MODEL_ROUTE = re.compile(r"^admin/(?P<app>\w+)/(?P<model>\w+)/(?P<rest>.*)$")
# Records nobody adds by hand (published versions, runs, revisions, votes, the audit trail).
NO_ADD = {
    "diagnosis/satisfactionrating",
    "diagnosis/wizardrun",
    "diagnosis/wizardversion",
    "knowledge/articlerevision",
    "knowledge/articlevote",
    "knowledge/searchqueryday",  # the content-gap page: written by the gap logging only
    "diagnosis/auditevent",
    "diagnosis/outgoingmail",
    "django_tasks_database/dbtaskresult",
}
# Background work: read-only records of what the workers did (superusers may only retry).
BACKGROUND = {"diagnosis/outgoingmail", "django_tasks_database/dbtaskresult"}
NO_DELETE = {  # superusers too
    "diagnosis/wizardversion",
    "diagnosis/auditevent",
    "diagnosis/satisfactionrating",
    "knowledge/searchqueryday",
    *BACKGROUND,
}
NO_DELETE_EDITOR = NO_DELETE | {"diagnosis/wizardrun", "knowledge/articlerevision"}
SUPERUSER_ONLY = {"diagnosis/auditevent", *BACKGROUND}  # not even in the editors' model set
# Site-level admin pages: what a staff editor and a superuser get.
ADMIN_SITE_PAGES = {
    "admin/": 200,
    "admin/jsi18n/": 200,
    "admin/password_change/": 200,
    "admin/password_change/done/": 200,
    "admin/autocomplete/": 403,  # without its parameters
    "admin/(?P<url>.*)$": 404,
    # tried with /admin/knowledge/
    "admin/^(?P<app_label>auth|diagnosis|django_tasks_database|knowledge)/$": 200,
    "admin/r/<path:content_type_id>/<path:object_id>/": REDIRECT,
}


def admin_routes(routes):
    return [route for route in routes if route.startswith("admin/")]


def admin_expected(route, role):
    """The rule for the admin's patterns. Anyone who is not staff is sent to the admin login;
    editors get their models (knowledge and wizard) and 403 elsewhere; superusers get all."""
    if route == "admin/login/":
        return LOGIN  # the site's login (password, then the second factor for staff)
    if route == "admin/logout/":  # GET is refused to staff; POST logs out
        return 405 if role in ("editor", "superuser") else REDIRECT
    if role not in ("editor", "superuser"):
        return ADMIN_LOGIN
    if route in ADMIN_SITE_PAGES:
        return ADMIN_SITE_PAGES[route]
    match = ADMIN_MODEL_ROUTE.match(route)
    assert match, f"classify the admin URL pattern {route!r}"
    model, rest = f"{match['app']}/{match['model']}", match["rest"]
    if rest == "<path:object_id>/":
        return REDIRECT  # to the change page
    if role == "editor" and (model not in EDITOR_MODELS or model in SUPERUSER_ONLY):
        return 403
    if rest == "add/" and model in NO_ADD:
        return 403
    if rest.endswith("/delete/") and model in (NO_DELETE_EDITOR if role == "editor" else NO_DELETE):
        return 403
    return 200


def test_every_url_pattern_is_classified():
    routes = project_routes()
    unclassified = [
        route for route in routes if not route.startswith("admin/") and route not in TABLE
    ]
    assert unclassified == [], f"classify these URL patterns in TABLE: {unclassified}"
    stale = sorted(set(TABLE) - set(routes))
    assert stale == [], f"TABLE entries without a URL pattern: {stale}"
    assert len(admin_routes(routes)) > 40  # the admin is enumerated too


def client_for(client_factory, world, role):
    client = client_factory()
    user = {
        "anonymous": None,
        "merchant_a": world.merchant_a,
        "merchant_b": world.merchant_b,
        "agent": world.agent,
        "editor": world.editor,
        "superuser": world.superuser,
    }[role]
    if user is not None:
        factories.sign_in(client, user)
    return client


# Roles are tried in this order: the ones that must be refused first, so that a state change by
# an allowed role (closing a ticket, revoking a token) cannot hide a refusal.
ORDER = ("anonymous", "merchant_b", "editor", "agent", "merchant_a", "superuser")


@pytest.mark.slow
@pytest.mark.django_db
@pytest.mark.parametrize("route", sorted(TABLE))
def test_site_and_api_urls(route, world):
    from django.test import Client

    entry = TABLE[route]
    url = entry.url(world) if callable(entry.url) else entry.url
    got, want = {}, {}
    for role in ORDER:
        client = client_for(Client, world, role)
        response = getattr(client, entry.method)(url, entry.data)
        got[role] = outcome(response)
        want[role] = entry.expected(role)
    assert got == want, f"{entry.method.upper()} {url} got {got}"


# -- the admin ------------------------------------------------------------------------------------


def admin_object(app, model):
    from django.apps import apps

    found = apps.get_model(app, model)._default_manager.order_by("pk").first()
    assert found is not None, f"the world needs one {app}.{model} to test its admin pages"
    return found


def admin_url(route, world):
    """A concrete URL for an admin route (objects: the first row of the model)."""
    from django.contrib.contenttypes.models import ContentType

    if route == "admin/r/<path:content_type_id>/<path:object_id>/":
        content_type = ContentType.objects.get_for_model(world.ticket)
        return f"/admin/r/{content_type.pk}/{world.ticket.pk}/"
    if route == "admin/^(?P<app_label>auth|diagnosis|django_tasks_database|knowledge)/$":
        return "/admin/knowledge/"
    if route == "admin/(?P<url>.*)$":
        return "/admin/no-such-page/"
    match = ADMIN_MODEL_ROUTE.match(route)
    url = "/" + route
    if match and "<" in route:
        obj = admin_object(match["app"], match["model"])
        url = url.replace("<path:object_id>", str(obj.pk)).replace("<id>", str(obj.pk))
        if "<int:change_id>" in url:  # a pending change (review before publish)
            from knowledge.models import ArticleChange

            url = url.replace("<int:change_id>", str(ArticleChange.objects.first().pk))
        if "<int:revision_id>" in url:
            revision = obj.revisions.first() if hasattr(obj, "revisions") else None
            url = url.replace("<int:revision_id>", str(revision.pk if revision else 0))
    assert "<" not in url and "(" not in url, url
    return url


@pytest.fixture
def admin_world(world, database_tasks):
    """Every admin-registered model has a row (wizard runs, votes and revisions included)."""
    from knowledge.models import ArticleRevision, ArticleVote

    ArticleVote.objects.create(article=world.article, voter_key="k" * 10, helpful=True)
    ArticleRevision.objects.create(article=world.article, author=world.editor, data={})
    from knowledge.models import ArticleChange

    # Submitted by someone else: the editor and the superuser may both review it.
    ArticleChange.objects.create(article=world.article, author=world.agent, proposed={})
    from knowledge.models import SearchQueryDay, SynonymGroup

    SearchQueryDay.objects.create(day=timezone.localdate(), lang="zh", query="没找到", searches=1)
    if not SynonymGroup.objects.exists():
        SynonymGroup.objects.create(key="zh-test", lang="zh", phrases="没钱\n余额不足")
    from diagnosis.models import WizardRun, WizardVersion

    WizardRun.objects.create(version=WizardVersion.objects.first(), path="q1", outcome="o")
    from tests import factories

    factories.terminal(merchant=world.merchant_a.merchant)
    from diagnosis.models import OutgoingMail

    OutgoingMail.objects.create(key="k", kind="ticket_created", to="a@example.com", subject="s")
    from django_tasks_db.models import DBTaskResult

    from diagnosis.tickets.tasks import deliver_due_mail

    DBTaskResult.objects.create(
        args_kwargs={"args": [], "kwargs": {}},
        task_path=deliver_due_mail.module_path,
        backend_name="default",
        run_after=timezone.now(),
    )
    from diagnosis.models import Macro, SatisfactionRating

    Macro.objects.create(name_zh="模板", name_en="Macro", body_zh="工单 {ticket}")
    SatisfactionRating.objects.create(ticket=world.ticket, score=5, source="page")
    from django.contrib import admin

    for model in admin.site._registry:
        if not model._default_manager.exists():
            pytest.fail(f"admin_world: create a {model._meta.label} row")
    return world


@pytest.mark.slow
@pytest.mark.django_db
@pytest.mark.parametrize("route", admin_routes(project_routes()))
def test_admin_urls(route, admin_world):
    from django.test import Client

    url = admin_url(route, admin_world)
    got = {}
    for role in ORDER:
        client = client_for(Client, admin_world, role)
        got[role] = outcome(client.get(url))
    assert got == {role: admin_expected(route, role) for role in ORDER}, url


# -- lists and the API never show another merchant's objects -------------------------------------


@pytest.mark.django_db
def test_lists_and_api_only_show_the_merchants_own_tickets(world):
    from django.test import Client

    from diagnosis.tickets.api_tokens import api_token_create

    b_ticket = factories_ticket_for(world.merchant_b)
    client_b = Client()
    factories.sign_in(client_b, world.merchant_b)
    page = client_b.get("/tickets/").content.decode()
    assert b_ticket.number in page and world.ticket.number not in page
    _token, raw_b = api_token_create(user=world.merchant_b, name="b")
    listed = Client().get("/api/v1/tickets", HTTP_AUTHORIZATION=f"Bearer {raw_b}").json()
    numbers = {item["number"] for item in listed["results"]}
    assert numbers == {b_ticket.number}
    # A's token cannot be revoked by B, and B's own token page does not list A's.
    assert world.token.prefix not in client_b.get("/tickets/api-tokens/").content.decode()
    world.token.refresh_from_db()
    assert world.token.revoked_at is None
    # A's attachment under B's ticket number: 404 (ids cannot be moved across tickets).
    client_a = Client()
    factories.sign_in(client_a, world.merchant_a)
    url = f"/tickets/{b_ticket.number}/attachments/{world.attachment.pk}/"
    assert client_a.get(url).status_code == 404
    assert client_b.get(url).status_code == 404


def factories_ticket_for(user):
    from tests import factories

    return factories.ticket(merchant=user.merchant, user=user)
