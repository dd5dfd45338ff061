"""Who reaches the desk: agents and superusers; merchants and editors get 403; anonymous → login."""

import pytest
from django.urls import reverse

from diagnosis.escalations.services import escalation_create
from tests import factories
from tests.diagnosis.desk_support import make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(merchant):
    return make_ticket(merchant=merchant)


@pytest.fixture
def batch(ticket, agent):
    return escalation_create(actor=agent, tickets=[ticket])


def get_urls(ticket, batch):
    return [
        reverse("diagnosis:desk"),
        reverse("diagnosis:desk_ticket", args=[ticket.number]),
        reverse("diagnosis:escalation_list"),
        reverse("diagnosis:escalation_detail", args=[batch.number]),
        reverse("diagnosis:escalation_export_csv", args=[batch.number]),
        reverse("diagnosis:escalation_export_xlsx", args=[batch.number]),
        reverse("diagnosis:escalation_print", args=[batch.number]),
    ]


def post_urls(ticket, batch):
    item = batch.items.get()
    return [
        reverse("diagnosis:desk_bulk"),
        reverse("diagnosis:desk_ticket_reply", args=[ticket.number]),
        reverse("diagnosis:desk_ticket_note", args=[ticket.number]),
        reverse("diagnosis:desk_ticket_status", args=[ticket.number]),
        reverse("diagnosis:desk_ticket_assign", args=[ticket.number]),
        reverse("diagnosis:desk_ticket_priority", args=[ticket.number]),
        reverse("diagnosis:escalation_new"),
        reverse("diagnosis:escalation_status", args=[batch.number]),
        reverse("diagnosis:escalation_discard", args=[batch.number]),
        reverse("diagnosis:escalation_reference", args=[batch.number, item.pk]),
        reverse("diagnosis:escalation_remove_item", args=[batch.number, item.pk]),
    ]


def test_anonymous_is_sent_to_login(client, ticket, batch):
    for url in get_urls(ticket, batch) + post_urls(ticket, batch):
        method = client.post if url in post_urls(ticket, batch) else client.get
        response = method(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url


@pytest.mark.parametrize("role", ["merchant_user", "other_merchant_user", "editor"])
def test_merchants_and_editors_get_403(client, request, role, ticket, batch):
    factories.sign_in(client, request.getfixturevalue(role))
    for url in get_urls(ticket, batch):
        assert client.get(url).status_code == 403, url
    for url in post_urls(ticket, batch):
        assert client.post(url, {"body": "x", "action": "sent"}).status_code == 403, url
    # nothing happened to the batch or the ticket
    batch.refresh_from_db()
    ticket.refresh_from_db()
    assert batch.status == "draft"
    assert ticket.events.count() == 0


def test_merchant_who_owns_the_ticket_still_cannot_see_its_batch(
    client, merchant_user, ticket, batch
):
    factories.sign_in(client, merchant_user)
    response = client.get(reverse("diagnosis:escalation_detail", args=[batch.number]))
    assert response.status_code == 403
    assert ticket.number.encode() not in response.content
    assert ticket.rrn.encode() not in response.content


@pytest.mark.parametrize("role", ["agent", "superuser"])
def test_agents_and_superusers_reach_every_page(client, request, role, ticket, batch):
    factories.sign_in(client, request.getfixturevalue(role))
    for url in get_urls(ticket, batch):
        assert client.get(url).status_code == 200, url


def test_unknown_ticket_or_batch_is_404_for_agents(client, agent):
    factories.sign_in(client, agent)
    assert client.get(reverse("diagnosis:desk_ticket", args=["DD-1999-000001"])).status_code == 404
    assert (
        client.get(reverse("diagnosis:escalation_detail", args=["ESC-1999-000001"])).status_code
        == 404
    )


def test_navigation_shows_desk_to_agents_only(client, agent, merchant_user, editor, superuser):
    desk = reverse("diagnosis:desk")

    def nav_urls():
        return [item["url"] for item in client.get("/").context["nav_items"]]

    assert desk not in nav_urls()
    for user, visible in (
        (merchant_user, False),
        (editor, False),
        (agent, True),
        (superuser, True),
    ):
        factories.sign_in(client, user)
        assert (desk in nav_urls()) is visible, user
