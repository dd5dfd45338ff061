"""Saved queue views (issue #18): save a filter with a name, private or shared; shared views in
every agent's desk navigation with capped, cached counts."""

import pytest
from django.urls import reverse

from diagnosis.desk import saved_views
from diagnosis.models import AuditEvent, SavedView
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent_client(client, agent):
    factories.sign_in(client, agent)
    return client


def save(client, **data):
    return client.post(reverse("diagnosis:desk_view_create"), data)


def test_save_a_filter_and_see_it_with_its_count(agent_client, agent, merchant_user):
    for _ in range(3):
        factories.ticket(user=merchant_user, response_code="51")
    factories.ticket(user=merchant_user, response_code="05")
    response = save(agent_client, name="Code 51", query="code=51&after=abc&bogus=1")
    assert response.status_code == 302
    view = SavedView.objects.get()
    assert view.query == "code=51"  # filters only: no cursor, no unknown parameter
    assert not view.shared and view.owner == agent
    assert response["Location"].endswith("?code=51")
    page = agent_client.get(reverse("diagnosis:desk")).content.decode()
    assert "Code 51" in page and '<span class="count">3</span>' in page
    assert AuditEvent.objects.filter(action="saved_view.create").exists()


def test_private_views_stay_private_and_shared_views_are_everyones(client, agent, merchant_user):
    factories.ticket(user=merchant_user)
    saved_views.saved_view_create(owner=agent, name="Mine only", query="status=new")
    saved_views.saved_view_create(owner=agent, name="Team view", query="", shared=True)
    other = factories.agent()
    factories.sign_in(client, other)
    page = client.get(reverse("diagnosis:desk")).content.decode()
    assert "Team view" in page and "Mine only" not in page
    # not the owner: no delete button, and deleting is refused
    shared = SavedView.objects.get(name="Team view")
    client.post(reverse("diagnosis:desk_view_delete", args=[shared.pk]))
    assert SavedView.objects.filter(pk=shared.pk).exists()
    private = SavedView.objects.get(name="Mine only")
    assert client.post(reverse("diagnosis:desk_view_delete", args=[private.pk])).status_code == 404


def test_owner_deletes(agent_client, agent, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        save(agent_client, name="Old", query="status=new")
    view = SavedView.objects.get()
    with django_assert_max_num_queries(10):
        response = agent_client.post(reverse("diagnosis:desk_view_delete", args=[view.pk]))
    assert response.status_code == 302
    assert not SavedView.objects.exists()


def test_name_is_required_and_card_numbers_are_masked(agent_client):
    response = save(agent_client, name="  ", query="q=DD-2026-000001")
    assert response.status_code == 302 and response["Location"].endswith("?q=DD-2026-000001")
    assert not SavedView.objects.exists()
    save(agent_client, name="卡 6222 0212 3456 7890 123", query="q=6222021234567890123")
    view = SavedView.objects.get()
    assert "6222021234567890123" not in view.query
    assert "6222 0212 3456 7890 123" not in view.name


def test_merchants_cannot_save_views(client, merchant_user):
    factories.sign_in(client, merchant_user)
    assert save(client, name="x", query="").status_code == 403


def test_counts_are_capped_and_cached(
    agent, merchant_user, django_assert_max_num_queries, monkeypatch
):
    monkeypatch.setattr(saved_views, "COUNT_CAP", 2)
    for _ in range(3):
        factories.ticket(user=merchant_user)
    saved_views.saved_view_create(owner=agent, name="All", query="", shared=True)
    saved_views.saved_view_create(owner=agent, name="New", query="status=new")
    items = saved_views.views_for_nav(user=agent)
    assert [(i["name"], i["count"], i["capped"]) for i in items] == [
        ("All", 2, True),
        ("New", 2, True),
    ]
    with django_assert_max_num_queries(0):
        assert saved_views.views_for_nav(user=agent) == items


def test_queue_queries_do_not_grow_with_saved_views(
    agent_client, agent, merchant_user, django_assert_max_num_queries
):
    factories.ticket(user=merchant_user)
    for n in range(5):
        saved_views.saved_view_create(owner=agent, name=f"View {n}", query=f"code=5{n}")
    agent_client.get(reverse("diagnosis:desk"))  # fills the caches
    with django_assert_max_num_queries(10):
        response = agent_client.get(reverse("diagnosis:desk"))
    assert response.status_code == 200
