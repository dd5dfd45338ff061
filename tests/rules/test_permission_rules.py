"""Who may do what, written out whole: every role × every permission function × object state.

Actors (columns): `anon` anonymous, `owner` a user of the ticket's merchant, `other` a user of
another merchant, `plain` a signed-in user with no role, `agent` a support agent, `off` a
deactivated agent, `editor` a knowledge editor (staff), `ed-ns` an editor who is not staff,
`admin` a superuser. A cell is `y` or `.`. Changing a rule changes exactly one cell.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.utils import timezone

from diagnosis.core import permissions as p
from diagnosis.core.roles import KNOWLEDGE_EDITORS
from diagnosis.models import Attachment, EscalationBatch, Ticket, TicketEvent
from tests import factories

pytestmark = pytest.mark.django_db

ACTORS = ["anon", "owner", "other", "plain", "agent", "off", "editor", "ed-ns", "admin"]

# function(user) → allowed actors
ROLE_TABLE = """
is_agent                       .  .  .  .  y  y  .  .  y
is_editor                      .  .  .  .  .  .  y  y  y
is_merchant_user               .  y  y  .  .  .  .  .  .
can_use_desk                   .  .  .  .  y  y  .  .  y
can_edit_knowledge             .  .  .  .  .  .  y  .  y
can_record_tickets             .  y  y  .  .  .  .  .  .
can_manage_escalations         .  .  .  .  y  y  .  .  y
can_see_internal_notes         .  .  .  .  y  y  .  .  y
can_assign_tickets             .  .  .  .  y  y  .  .  y
can_be_assigned                .  .  .  .  y  .  .  .  y
can_set_ticket_priority        .  .  .  .  y  y  .  .  y
can_manage_api_tokens          .  y  y  .  .  .  .  .  .
can_preview_wizard             .  .  .  .  .  .  y  .  y
can_publish_wizard             .  .  .  .  .  .  y  .  y
can_view_wizard_stats          .  .  .  .  .  .  y  .  y
can_preview_articles           .  .  .  .  .  .  y  .  y
can_restore_article_revisions  .  .  .  .  .  .  y  .  y
can_publish_articles           .  .  .  .  .  .  .  .  y
can_view_insight               .  .  .  .  y  y  .  .  y
can_manage_incidents           .  .  .  .  y  y  .  .  y
can_save_desk_views            .  .  .  .  y  y  .  .  y
can_use_agent_api              .  .  .  .  y  .  .  .  y
can_manage_staff_api_tokens    .  .  .  .  y  .  .  .  y
can_use_macros                 .  .  .  .  y  y  .  .  y
can_manage_macros              .  .  .  .  .  .  .  .  y
can_view_satisfaction          .  .  .  .  y  y  .  .  y
"""

# function(user, ticket of `owner`'s merchant) → allowed actors, whatever the ticket's status
TICKET_TABLE = """
can_view_ticket                .  y  .  .  y  y  .  .  y
can_add_internal_note          .  .  .  .  y  y  .  .  y
can_work_desk_ticket           .  .  .  .  y  y  .  .  y
can_view_escalation            .  .  .  .  y  y  .  .  y
"""

# function(user, ticket in status) → allowed actors; rows are "function status"
STATUS_TABLE = """
can_reply_ticket   new               .  y  .  .  y  y  .  .  y
can_reply_ticket   in_progress       .  y  .  .  y  y  .  .  y
can_reply_ticket   waiting_merchant  .  y  .  .  y  y  .  .  y
can_reply_ticket   escalated         .  y  .  .  y  y  .  .  y
can_reply_ticket   resolved          .  .  .  .  y  y  .  .  y
can_reply_ticket   closed            .  .  .  .  y  y  .  .  y
can_close_ticket   new               .  y  .  .  y  y  .  .  y
can_close_ticket   in_progress       .  y  .  .  y  y  .  .  y
can_close_ticket   waiting_merchant  .  y  .  .  y  y  .  .  y
can_close_ticket   escalated         .  y  .  .  y  y  .  .  y
can_close_ticket   resolved          .  y  .  .  y  y  .  .  y
can_close_ticket   closed            .  .  .  .  .  .  .  .  .
can_reopen_ticket  new               .  .  .  .  .  .  .  .  .
can_reopen_ticket  in_progress       .  .  .  .  .  .  .  .  .
can_reopen_ticket  waiting_merchant  .  .  .  .  .  .  .  .  .
can_reopen_ticket  escalated         .  .  .  .  .  .  .  .  .
can_reopen_ticket  resolved          .  y  .  .  y  y  .  .  y
can_reopen_ticket  closed            .  y  .  .  y  y  .  .  y
can_rate_ticket    new               .  .  .  .  .  .  .  .  .
can_rate_ticket    in_progress       .  .  .  .  .  .  .  .  .
can_rate_ticket    waiting_merchant  .  .  .  .  .  .  .  .  .
can_rate_ticket    escalated         .  .  .  .  .  .  .  .  .
can_rate_ticket    resolved          .  y  .  .  .  .  .  .  .
can_rate_ticket    closed            .  .  .  .  .  .  .  .  .
"""

# function(user, ticket, other ticket) → allowed actors; rows are "function pair", where the
# pair is: `same` another open ticket of the same merchant, `itself` the ticket twice,
# `elsewhere` another merchant's ticket, `closed` a closed ticket of the same merchant
PAIR_TABLE = """
can_link_tickets   same       .  .  .  .  y  y  .  .  y
can_link_tickets   itself     .  .  .  .  y  y  .  .  y
can_link_tickets   elsewhere  .  .  .  .  y  y  .  .  y
can_link_tickets   closed     .  .  .  .  y  y  .  .  y
can_merge_tickets  same       .  .  .  .  y  y  .  .  y
can_merge_tickets  itself     .  .  .  .  .  .  .  .  .
can_merge_tickets  elsewhere  .  .  .  .  .  .  .  .  .
can_merge_tickets  closed     .  .  .  .  .  .  .  .  .
"""

ROLE_VALUES = {
    "ticket_role": {"owner": "merchant", "agent": "agent", "off": "agent", "admin": "agent"},
}


def _rows(table, key_columns=1):
    rows = {}
    for line in table.strip().splitlines():
        parts = line.split()
        key = tuple(parts[:key_columns]) if key_columns > 1 else parts[0]
        cells = parts[key_columns:]
        assert len(cells) == len(ACTORS), line
        rows[key] = {actor for actor, cell in zip(ACTORS, cells, strict=True) if cell == "y"}
    return rows


@pytest.fixture
def world():
    merchant = factories.merchant()
    owner = factories.merchant_user(merchant=merchant)
    actors = {
        "anon": AnonymousUser(),
        "owner": owner,
        "other": factories.merchant_user(),
        "plain": factories.user(),
        "agent": factories.agent(),
        "off": factories.agent(is_active=False),
        "editor": factories.editor(),
        "ed-ns": factories.user(groups=[KNOWLEDGE_EDITORS], is_staff=False),
        "admin": factories.user(is_superuser=True, is_staff=True),
    }
    ticket = factories.ticket(user=owner)
    return actors, ticket


def test_tables_cover_every_permission_function():
    named = set(_rows(ROLE_TABLE)) | set(_rows(TICKET_TABLE)) | {"ticket_role", "role_required"}
    named |= {key[0] for key in _rows(STATUS_TABLE, 2)}
    named |= {"visible_tickets", "can_view_attachment", "can_change_ticket_status"}
    named |= {"ticket_status_choices", "can_delete_desk_view", "can_review_article_change"}
    named |= {"can_withdraw_article_change"}
    named |= {key[0] for key in _rows(PAIR_TABLE, 2)}
    public = {
        name
        for name, value in vars(p).items()
        if callable(value)
        and not name.startswith("_")
        and getattr(value, "__module__", "") == p.__name__
    }
    assert public == named, "a permission function without a row in these tables"


@pytest.mark.parametrize("function", sorted(_rows(ROLE_TABLE)))
def test_role_table(world, function):
    actors, _ticket = world
    expected = _rows(ROLE_TABLE)[function]
    got = {name for name, user in actors.items() if getattr(p, function)(user)}
    assert got == expected


@pytest.mark.parametrize("function", sorted(_rows(TICKET_TABLE)))
def test_ticket_table(world, function):
    actors, ticket = world
    target = (
        EscalationBatch(acquirer=ticket.acquirer) if function == "can_view_escalation" else ticket
    )
    expected = _rows(TICKET_TABLE)[function]
    got = {name for name, user in actors.items() if getattr(p, function)(user, target)}
    assert got == expected


@pytest.mark.parametrize(("function", "status"), sorted(_rows(STATUS_TABLE, 2)))
def test_status_table(world, function, status):
    actors, ticket = world
    ticket.status = status
    ticket.resolved_at = timezone.now() - timedelta(days=1) if status == "resolved" else None
    ticket.closed_at = timezone.now() - timedelta(days=1) if status == "closed" else None
    expected = _rows(STATUS_TABLE, 2)[(function, status)]
    got = {name for name, user in actors.items() if getattr(p, function)(user, ticket)}
    assert got == expected


@pytest.mark.parametrize(("function", "pair"), sorted(_rows(PAIR_TABLE, 2)))
def test_pair_table(world, function, pair):
    actors, ticket = world
    other = {
        "same": lambda: factories.ticket(user=ticket.created_by),
        "itself": lambda: ticket,
        "elsewhere": lambda: factories.ticket(),
        "closed": lambda: factories.ticket(user=ticket.created_by),
    }[pair]()
    if pair == "closed":
        other.status = "closed"
    assert (pair != "same") or other.merchant_id == ticket.merchant_id
    expected = _rows(PAIR_TABLE, 2)[(function, pair)]
    got = {name for name, user in actors.items() if getattr(p, function)(user, ticket, other)}
    assert got == expected


def test_lead_agents_manage_macros_with_the_permission_and_staff_status():
    lead = factories.agent(is_staff=True)
    assert not p.can_manage_macros(lead)  # staff alone is not enough
    lead.user_permissions.add(Permission.objects.get(codename="change_macro"))
    lead = type(lead).objects.get(pk=lead.pk)  # permissions are cached per instance
    assert p.can_manage_macros(lead)
    lead.is_staff = False
    assert not p.can_manage_macros(lead)  # the permission without staff status is not enough
    lead.is_staff, lead.is_active = True, False
    assert not p.can_manage_macros(lead)


def test_ticket_role_for_every_actor(world):
    actors, ticket = world
    got = {name: p.ticket_role(user, ticket) for name, user in actors.items()}
    assert got == {name: ROLE_VALUES["ticket_role"].get(name) for name in ACTORS}


def test_visible_tickets_for_every_actor(world):
    actors, ticket = world
    elsewhere = factories.ticket()  # another merchant's ticket
    expected = {
        "owner": {ticket.pk},
        "agent": {ticket.pk, elsewhere.pk},
        "off": {ticket.pk, elsewhere.pk},
        "admin": {ticket.pk, elsewhere.pk},
    }  # `other` belongs to a third merchant: neither ticket is theirs
    for name, user in actors.items():
        got = set(p.visible_tickets(user).values_list("pk", flat=True))
        assert got == expected.get(name, set()), name
    narrowed = Ticket.objects.filter(pk=elsewhere.pk)
    assert list(p.visible_tickets(actors["owner"], narrowed)) == []
    assert list(p.visible_tickets(actors["agent"], narrowed)) == [elsewhere]


def test_merchant_reopen_window_in_permissions(world):
    actors, ticket = world
    ticket.status = "closed"
    ticket.closed_at = timezone.now() - timedelta(days=15)
    assert not p.can_reopen_ticket(actors["owner"], ticket)
    assert p.can_reopen_ticket(actors["agent"], ticket)
    assert p.ticket_status_choices(actors["owner"], ticket) == []
    assert p.ticket_status_choices(actors["agent"], ticket) == ["in_progress"]


def test_attachments_of_internal_notes_are_for_agents_only(world):
    actors, ticket = world
    public = Attachment(ticket=ticket, event=TicketEvent(ticket=ticket, is_internal=False))
    internal = Attachment(ticket=ticket, event=TicketEvent(ticket=ticket, is_internal=True))
    loose = Attachment(ticket=ticket, event=None)
    see_public = {n for n, u in actors.items() if p.can_view_attachment(u, public)}
    see_internal = {n for n, u in actors.items() if p.can_view_attachment(u, internal)}
    see_loose = {n for n, u in actors.items() if p.can_view_attachment(u, loose)}
    assert see_public == see_loose == {"owner", "agent", "off", "admin"}
    assert see_internal == {"agent", "off", "admin"}


@pytest.mark.parametrize(
    ("function", "codename"),
    [
        ("can_publish_wizard", "add_wizardversion"),
        ("can_view_wizard_stats", "view_wizardrun"),
        ("can_restore_article_revisions", "change_article"),
    ],
)
def test_editor_needs_the_specific_model_permission(function, codename):
    editor = factories.editor()
    assert getattr(p, function)(editor)
    group = Group.objects.get(name=KNOWLEDGE_EDITORS)
    group.permissions.remove(Permission.objects.get(codename=codename))
    editor = type(editor).objects.get(pk=editor.pk)  # fresh permission cache
    assert not getattr(p, function)(editor)
    assert p.can_edit_knowledge(editor)  # still an editor, just not for this


def test_lead_editors_publish_with_the_permission_and_staff_status():
    lead = factories.editor()
    assert not p.can_publish_articles(lead)  # the editors' group does not carry it
    lead.user_permissions.add(Permission.objects.get(codename="publish_article"))
    lead = type(lead).objects.get(pk=lead.pk)
    assert p.can_publish_articles(lead)
    lead.is_staff = False
    assert not p.can_publish_articles(lead)


def test_pending_changes_are_reviewed_by_another_editor(world):
    from knowledge.models import Article, ArticleChange

    actors, _ticket = world
    change = ArticleChange(article=Article(), author=actors["editor"])
    allowed = {n for n, u in actors.items() if p.can_review_article_change(u, change)}
    assert allowed == {"admin"}  # the author cannot approve their own change
    change.author = actors["admin"]
    allowed = {n for n, u in actors.items() if p.can_review_article_change(u, change)}
    assert allowed == {"editor"}
    change.state = ArticleChange.State.SENT_BACK
    assert not any(p.can_review_article_change(u, change) for u in actors.values())


def test_only_the_author_withdraws_a_pending_change(world):
    from django.contrib.auth.models import AnonymousUser

    from knowledge.models import Article, ArticleChange

    actors, _ticket = world
    change = ArticleChange(article=Article(), author=actors["editor"])
    allowed = {n for n, u in actors.items() if p.can_withdraw_article_change(u, change)}
    assert allowed == {"editor"}  # not the admin, not another editor
    assert not p.can_withdraw_article_change(AnonymousUser(), change)
    for state in (ArticleChange.State.APPROVED, ArticleChange.State.SENT_BACK):
        change.state = state
        assert not p.can_withdraw_article_change(actors["editor"], change)
    change.state, change.author = ArticleChange.State.PENDING, None  # author deleted
    assert not any(p.can_withdraw_article_change(u, change) for u in actors.values())


def test_saved_views_are_deleted_by_their_owner_or_a_superuser(world):
    from diagnosis.models import SavedView

    actors, _ticket = world
    view = SavedView.objects.create(owner=actors["agent"], name="Mine", shared=True)
    allowed = {name for name, user in actors.items() if p.can_delete_desk_view(user, view)}
    assert allowed == {"agent", "admin"}


def test_the_merchant_is_compared_by_value():
    # Ids above 256 are separate int objects once read from the database.
    merchant = factories.merchant(pk=100_000)
    owner = factories.merchant_user(merchant=merchant)
    ticket = factories.ticket(user=owner)
    owner = type(owner).objects.get(pk=owner.pk)
    ticket = type(ticket).objects.get(pk=ticket.pk)
    assert p.ticket_role(owner, ticket) == "merchant"
    assert p.can_view_ticket(owner, ticket)


def test_ticket_status_choices_takes_now_by_keyword_only(world):
    actors, ticket = world
    now = timezone.now()
    assert p.ticket_status_choices(user=actors["owner"], ticket=ticket, now=now) == ["closed"]
    with pytest.raises(TypeError):
        p.ticket_status_choices(actors["owner"], ticket, now)


def test_role_required_keeps_the_views_name_and_doc():
    def my_view(request):
        """The doc."""

    wrapped = p.role_required(p.can_use_desk)(my_view)
    assert (wrapped.__name__, wrapped.__doc__, wrapped.__wrapped__) == (
        "my_view",
        "The doc.",
        my_view,
    )
