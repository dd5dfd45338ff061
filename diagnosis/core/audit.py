"""Write the audit trail (diagnosis.models.AuditEvent): every agent and editor action.

Sources:
- ticket events written by an agent (reply, internal note, status, assignment, priority — from
  the desk, bulk actions and escalations): a post_save signal on TicketEvent;
- escalation batches (create, sent, answered, closed, bank reference, remove item, discard):
  explicit `record()` calls in diagnosis/escalations/services.py;
- everything done in the admin (add, change, delete — editors' articles, codes, announcements,
  wizard drafts — and superusers' changes): every admin LogEntry is mirrored, bulk deletions
  included (LogEntry's manager's log_actions is wrapped in `connect()`);
- article revisions (restores included) and wizard publications: post_save signals.
Free text is never copied in (card data rules): only kinds, numbers and field names.
"""

from django.db.models.signals import post_save

from diagnosis.core import permissions
from diagnosis.core.cards import scrub_text


def _role(user) -> str:
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    if user.is_superuser:
        return "superuser"
    if permissions.is_agent(user):
        return "agent"
    if permissions.is_editor(user):
        return "editor"
    if permissions.is_merchant_user(user):
        return "merchant"
    return "user"


def record(*, actor, action: str, obj=None, **details):
    """Append one audit event. `details` must hold no free text typed by anyone."""
    from diagnosis.models import AuditEvent

    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=getattr(actor, "username", "") or "",
        role=_role(actor),
        action=action[:40],
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=scrub_text(str(obj))[:200] if obj is not None else "",
        details={key: scrub_text(value) for key, value in details.items()},
    )


def _ticket_event_saved(sender, instance, created, raw=False, **kwargs):
    if not created or raw or instance.author_id is None:
        return
    if _role(instance.author) not in ("agent", "superuser"):
        return
    record(
        actor=instance.author,
        action=f"ticket.{instance.kind}",
        obj=instance.ticket,
        internal=instance.is_internal,
        old=instance.old_value,
        new=instance.new_value,
    )


def _revision_saved(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        record(
            actor=instance.author,
            action="article.revision",
            obj=instance.article,
            changed_fields=list(instance.changed_fields or []),
        )


def _wizard_version_saved(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        record(actor=instance.published_by, action="wizard.publish", obj=instance)


ADMIN_ACTIONS = {1: "admin.add", 2: "admin.change", 3: "admin.delete"}


def _mirror_log_entries(entries):
    from django.contrib.auth import get_user_model

    users = {}
    for entry in entries:
        if entry.user_id not in users:
            users[entry.user_id] = get_user_model().objects.filter(pk=entry.user_id).first()
        from diagnosis.models import AuditEvent

        actor = users[entry.user_id]
        AuditEvent.objects.create(
            actor=actor,
            actor_name=getattr(actor, "username", ""),
            role=_role(actor),
            action=ADMIN_ACTIONS.get(entry.action_flag, "admin.other"),
            object_type=(
                entry.content_type.model_class()._meta.label_lower
                if entry.content_type_id and entry.content_type.model_class()
                else ""
            ),
            object_id=str(entry.object_id or "")[:64],
            object_repr=scrub_text(entry.object_repr or "")[:200],
            details={"change": scrub_text(entry.get_change_message())},
        )


def connect():
    from django.contrib.admin.models import LogEntry

    from diagnosis.models import TicketEvent, WizardVersion
    from knowledge.models import ArticleRevision

    post_save.connect(_ticket_event_saved, sender=TicketEvent, dispatch_uid="audit_ticket_event")
    post_save.connect(_revision_saved, sender=ArticleRevision, dispatch_uid="audit_revision")
    post_save.connect(
        _wizard_version_saved, sender=WizardVersion, dispatch_uid="audit_wizard_version"
    )

    # Wrap log_actions on LogEntry's manager instance (not its class: the manager's class is
    # part of the migration state, and swapping it would make a migration in django.contrib).
    manager = LogEntry._meta.managers_map["objects"]
    if getattr(manager.log_actions, "_audited", False):
        return
    log_actions = manager.log_actions

    def audited_log_actions(*args, **kwargs):
        logged = log_actions(*args, **kwargs)
        entries = [logged] if isinstance(logged, LogEntry) else list(logged or [])
        _mirror_log_entries(entries)
        return logged

    audited_log_actions._audited = True
    manager.log_actions = audited_log_actions
