"""Merge duplicate tickets of one merchant, and link related tickets without merging.

Merging moves the duplicate's whole timeline (replies, notes, history) and its attachments to the
kept ticket, closes the duplicate with a public note pointing to the kept ticket, and records a
TicketLink (kind "merged") and an audit event. The merchant's pages stay right: the kept ticket
shows everything, the duplicate shows it was merged and where. Refused across merchants.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _

from diagnosis.core import audit, permissions
from diagnosis.models import Attachment, Ticket, TicketEvent, TicketLink
from diagnosis.tickets import services as ticket_services


def _lock_both(a, b):
    """Lock both rows in pk order (two agents merging crosswise cannot deadlock)."""
    locked = {t.pk: t for t in Ticket.objects.select_for_update().filter(pk__in=[a.pk, b.pk])}
    return locked[a.pk], locked[b.pk]


@transaction.atomic
def ticket_merge(*, kept, duplicate, actor) -> Ticket:
    """Merge `duplicate` into `kept`. Raises PermissionDenied / ValidationError."""
    if not permissions.can_link_tickets(actor, kept, duplicate):
        raise PermissionDenied
    if kept.pk == duplicate.pk:
        raise ValidationError({"other": _("不能把工单合并到它自己。")})
    if kept.merchant_id != duplicate.merchant_id:
        raise ValidationError({"other": _("只能合并同一商户的工单。")})
    locked_kept, locked_dup = _lock_both(kept, duplicate)
    if not permissions.can_merge_tickets(actor, locked_kept, locked_dup):
        raise ValidationError({"other": _("这张工单已经完结或已被合并，不能再合并。")})
    if TicketLink.objects.filter(source=locked_kept, kind=TicketLink.Kind.MERGED).exists():
        raise ValidationError({"other": _("保留的工单本身已被合并到别的工单。")})

    # The duplicate's creation becomes a public entry of the kept ticket carrying what the
    # merchant wrote (the kept ticket keeps the one "created" event its pages start from).
    with translation.override(None):
        origin = _("合并自工单 %(number)s：") % {"number": locked_dup.number}
    TicketEvent.objects.filter(ticket=locked_dup, kind=TicketEvent.Kind.CREATED).update(
        kind=TicketEvent.Kind.REPLY,
        body=(origin + "\n" + locked_dup.description).strip()[:4000],
    )
    moved_events = TicketEvent.objects.filter(ticket=locked_dup).update(ticket=locked_kept)
    moved_files = Attachment.objects.filter(ticket=locked_dup).update(ticket=locked_kept)
    # Links of the duplicate now belong to the kept ticket (pairs it already has are dropped).
    for link in TicketLink.objects.filter(Q(source=locked_dup) | Q(target=locked_dup)):
        other = link.target_id if link.source_id == locked_dup.pk else link.source_id
        if (
            other == locked_kept.pk
            or TicketLink.objects.filter(
                Q(source=locked_kept, target_id=other) | Q(source_id=other, target=locked_kept)
            ).exists()
        ):
            link.delete()
        elif link.source_id == locked_dup.pk:
            TicketLink.objects.filter(pk=link.pk).update(source=locked_kept)
        else:
            TicketLink.objects.filter(pk=link.pk).update(target=locked_kept)
    TicketLink.objects.create(
        source=locked_dup, target=locked_kept, kind=TicketLink.Kind.MERGED, created_by=actor
    )
    # The pointer the merchant sees on the duplicate (in the site's language: a stored note).
    with translation.override(None):
        note = _("已合并到工单 %(number)s，后续请在该工单沟通。") % {"number": locked_kept.number}
    ticket_services.ticket_change_status(
        ticket=locked_dup, actor=actor, status=Ticket.Status.CLOSED, note=note
    )
    ticket_services.ticket_reply(
        ticket=locked_kept,
        author=actor,
        internal=True,
        body=_("已合并工单 %(number)s（%(events)d 条记录，%(files)d 个附件）。")
        % {"number": locked_dup.number, "events": moved_events, "files": moved_files},
    )
    audit.record(
        actor=actor,
        action="ticket.merge",
        obj=locked_kept,
        duplicate=locked_dup.number,
        events=str(moved_events),
        attachments=str(moved_files),
    )
    ticket_services._refresh(kept, locked_kept)
    ticket_services._refresh(duplicate, locked_dup)
    return kept


@transaction.atomic
def ticket_link(*, ticket, other, actor) -> TicketLink:
    """Mark two tickets as related (e.g. the same terminal fault on several days)."""
    if not permissions.can_link_tickets(actor, ticket, other):
        raise PermissionDenied
    if ticket.pk == other.pk:
        raise ValidationError({"other": _("不能关联工单自己。")})
    if TicketLink.objects.filter(
        Q(source=ticket, target=other) | Q(source=other, target=ticket)
    ).exists():
        raise ValidationError({"other": _("这两张工单已经关联。")})
    link = TicketLink.objects.create(
        source=ticket, target=other, kind=TicketLink.Kind.RELATED, created_by=actor
    )
    audit.record(actor=actor, action="ticket.link", obj=ticket, other=other.number)
    return link


@transaction.atomic
def ticket_unlink(*, ticket, link_id, actor) -> None:
    link = (
        TicketLink.objects.filter(pk=link_id, kind=TicketLink.Kind.RELATED)
        .filter(Q(source=ticket) | Q(target=ticket))
        .select_related("source", "target")
        .first()
    )
    if link is None:
        raise ValidationError({"other": _("没有这条关联。")})
    if not permissions.can_link_tickets(actor, link.source, link.target):
        raise PermissionDenied
    other = link.target if link.source_id == ticket.pk else link.source
    link.delete()
    audit.record(actor=actor, action="ticket.unlink", obj=ticket, other=other.number)


def ticket_links(*, ticket) -> dict:
    """What the ticket pages show: related tickets, tickets merged into this one, and the ticket
    this one was merged into. One query."""
    links = (
        TicketLink.objects.filter(Q(source=ticket) | Q(target=ticket))
        .select_related("source", "target")
        .order_by("created_at", "pk")
    )
    related, merged_in, merged_into = [], [], None
    for link in links:
        other = link.target if link.source_id == ticket.pk else link.source
        other.link_id = link.pk
        if link.kind == TicketLink.Kind.RELATED:
            related.append(other)
        elif link.source_id == ticket.pk:
            merged_into = other
        else:
            merged_in.append(other)
    return {"related": related, "merged_in": merged_in, "merged_into": merged_into}
