"""The audit trail: every agent and editor action is recorded; nobody can change or delete it."""

import pytest
from django.db import connection, transaction
from django.test import Client

from diagnosis.escalations import services as escalations
from diagnosis.models import AuditEvent, AuditLogIsAppendOnly
from diagnosis.tickets.services import ticket_reply
from tests import factories

pytestmark = pytest.mark.django_db


def actions(**filters):
    return list(
        AuditEvent.objects.filter(**filters).order_by("pk").values_list("action", flat=True)
    )


def test_agent_desk_actions_are_recorded(world):
    client = Client()
    factories.sign_in(client, world.agent)
    number = world.ticket.number
    before = AuditEvent.objects.count()
    client.post(f"/desk/tickets/{number}/reply/", {"body": "请核对卡号 6228480402564890018"})
    client.post(f"/desk/tickets/{number}/note/", {"body": "内部备注"})
    client.post(f"/desk/tickets/{number}/assign/", {"assignee": str(world.agent.pk)})
    client.post(f"/desk/tickets/{number}/priority/", {"priority": "high"})
    events = list(AuditEvent.objects.order_by("pk")[before:])
    assert [e.action for e in events] == [
        "ticket.reply",
        "ticket.note",
        "ticket.assign",
        "ticket.priority",
    ]
    for event in events:
        assert event.actor == world.agent and event.actor_name == world.agent.username
        assert event.role == "agent"
        assert event.object_type == "diagnosis.ticket" and event.object_id == str(world.ticket.pk)
    # No free text copied into the trail (and so no card number).
    assert "6228480402564890018" not in str([e.details for e in events])
    assert "内部备注" not in str([e.details for e in events])


def test_merchant_actions_are_not_agent_actions(world):
    before = AuditEvent.objects.count()
    ticket_reply(ticket=world.ticket, author=world.merchant_a, body="还是不行")
    assert AuditEvent.objects.count() == before


def test_escalation_actions_are_recorded(world):
    assert actions(action__startswith="escalation.") == ["escalation.create"]
    other = factories.ticket(merchant=world.merchant_b.merchant, user=world.merchant_b)
    batch = escalations.escalation_create(actor=world.agent, tickets=[other])
    escalations.escalation_discard(batch=batch, actor=world.agent)
    assert actions(action__startswith="escalation.") == [
        "escalation.create",
        "escalation.create",
        "escalation.discard",
    ]
    discard = AuditEvent.objects.get(action="escalation.discard")
    assert discard.object_repr == batch.number and discard.actor == world.agent


def test_editor_admin_actions_are_recorded_bulk_deletions_included(world):
    from knowledge.models import Announcement

    client = Client()
    factories.sign_in(client, world.editor)
    extra = [
        Announcement.objects.create(title_zh=f"公告{n}", title_en=f"Notice {n}") for n in range(2)
    ]
    response = client.post(
        f"/admin/knowledge/announcement/{world.announcement.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    response = client.post(
        "/admin/knowledge/announcement/",
        {"action": "delete_selected", "_selected_action": [a.pk for a in extra], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Announcement.objects.exists()
    deleted = AuditEvent.objects.filter(action="admin.delete")
    assert deleted.count() == 3
    assert {e.object_type for e in deleted} == {"knowledge.announcement"}
    assert {e.actor_id for e in deleted} == {world.editor.pk}
    assert {e.role for e in deleted} == {"editor"}


def test_article_revisions_and_wizard_publication_are_recorded(world):
    from knowledge.models import ArticleRevision

    ArticleRevision.objects.create(
        article=world.article, author=world.editor, data={}, changed_fields=["title_zh"]
    )
    event = AuditEvent.objects.get(action="article.revision")
    assert event.actor == world.editor and event.details == {"changed_fields": ["title_zh"]}
    # The world's wizard was published by the loader (no user): recorded with no actor.
    assert AuditEvent.objects.filter(action="wizard.publish").exists()


def test_audit_events_cannot_be_changed_or_deleted(world):
    event = AuditEvent.objects.first()
    assert event is not None
    event.action = "nothing.happened"
    with pytest.raises(AuditLogIsAppendOnly):
        event.save()
    with pytest.raises(AuditLogIsAppendOnly):
        event.delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.filter(pk=event.pk).update(action="x")
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.all().delete()
    # Deleting the person does not touch (or remove) what they did.
    count = AuditEvent.objects.count()
    world.agent.delete()
    assert AuditEvent.objects.count() == count
    assert AuditEvent.objects.filter(actor_name=world.agent.username).exists()


def test_database_refuses_raw_updates_on_postgresql(world):
    event = AuditEvent.objects.first()
    if connection.vendor != "postgresql":
        # SQLite has no trigger; the model layer above is the guard there.
        assert connection.vendor == "sqlite"
        return
    from django.db import DatabaseError

    for sql in (
        "UPDATE diagnosis_auditevent SET action = 'x' WHERE id = %s",
        "DELETE FROM diagnosis_auditevent WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [event.pk])


def test_admin_shows_the_trail_read_only_to_superusers_only(world):
    event = AuditEvent.objects.first()
    superuser = Client()
    factories.sign_in(superuser, world.superuser)
    assert superuser.get("/admin/diagnosis/auditevent/").status_code == 200
    page = superuser.get(f"/admin/diagnosis/auditevent/{event.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert superuser.get("/admin/diagnosis/auditevent/add/").status_code == 403
    assert superuser.get(f"/admin/diagnosis/auditevent/{event.pk}/delete/").status_code == 403
    response = superuser.post(
        f"/admin/diagnosis/auditevent/{event.pk}/change/", {"action": "tampered"}
    )
    assert response.status_code == 403
    event.refresh_from_db()
    assert event.action != "tampered"
    editor = Client()
    factories.sign_in(editor, world.editor)
    assert editor.get("/admin/diagnosis/auditevent/").status_code == 403
    agent = Client()
    factories.sign_in(agent, world.agent)
    assert agent.get("/admin/diagnosis/auditevent/").status_code == 302
    from django.contrib.auth.models import Permission

    # No role is granted any permission on it.
    assert not Permission.objects.filter(
        content_type__model="auditevent", group__isnull=False
    ).exists()


def test_incident_actions_are_recorded(world):
    from diagnosis.insight import services as insight

    incident = world.incident
    insight.incident_unlink_ticket(incident=incident, actor=world.agent, ticket=world.ticket)
    insight.incident_link_tickets(
        incident=incident, actor=world.agent, numbers=[world.ticket.number]
    )
    status = insight.incident_allowed_statuses(incident)[0]
    insight.incident_set_status(incident=incident, actor=world.agent, status=status)
    assert actions(action__startswith="incident.") == [
        "incident.unlink",
        "incident.link",
        "incident.status",
    ]
    assert set(
        AuditEvent.objects.filter(action__startswith="incident.").values_list("actor", flat=True)
    ) == {world.agent.pk}
