"""Escalation batches: tickets of ONE acquirer sent to that bank together.

Batch statuses move strictly draft → sent → answered → closed. Sending moves every ticket of the
batch to "escalated to bank" through `ticket_change_status` (so the merchant sees it, gets the
usual email, and the workflow's rules apply); if any ticket may not move, nothing is sent.
"""

import uuid

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from diagnosis.core import audit, permissions
from diagnosis.core.cards import scrub_text
from diagnosis.models import BankOutcome, EscalationBatch, EscalationItem, Ticket, TicketEvent
from diagnosis.tickets import workflow

Batch = EscalationBatch.Status

# (from, to) of a batch; nothing else is allowed.
BATCH_TRANSITIONS = {
    (Batch.DRAFT, Batch.SENT),
    (Batch.SENT, Batch.ANSWERED),
    (Batch.ANSWERED, Batch.CLOSED),
}
# A ticket sits in at most one batch that the bank has not answered yet.
PENDING_BATCH_STATUSES = (Batch.DRAFT, Batch.SENT)
MAX_TICKETS_PER_BATCH = 200


def _check_actor(actor):
    if not permissions.can_manage_escalations(actor):
        raise PermissionDenied


def _bank_name(bank):
    return bank.name if bank is not None else "?"


def escalation_batch_next_statuses(batch) -> list[str]:
    return [to for (frm, to) in sorted(BATCH_TRANSITIONS) if frm == batch.status]


@transaction.atomic
def escalation_create(*, actor, tickets, note=""):
    """A draft batch for `tickets`, which must all belong to one acquirer."""
    _check_actor(actor)
    tickets = list(tickets)
    if not tickets:
        raise ValidationError(_("请至少选择一张工单。"), code="empty")
    if len(tickets) > MAX_TICKETS_PER_BATCH:
        raise ValidationError(
            _("一个批次最多 %(max)d 张工单。") % {"max": MAX_TICKETS_PER_BATCH}, code="too_many"
        )
    acquirers = {}
    for ticket in tickets:
        acquirers.setdefault(ticket.acquirer_id, ticket)
    if len(acquirers) > 1:
        names = "、".join(sorted(_bank_name(t.acquirer) for t in acquirers.values()))
        raise ValidationError(
            _(
                "一个批次只能包含同一家收单行的工单。所选工单来自 %(count)d 家收单行（%(names)s），"
                "请按收单行分别创建批次。"
            )
            % {"count": len(acquirers), "names": names},
            code="mixed_acquirers",
        )

    locked = list(
        Ticket.objects.select_for_update().filter(pk__in=[t.pk for t in tickets]).order_by("pk")
    )
    pending = dict(
        EscalationItem.objects.filter(
            ticket__in=locked, batch__status__in=PENDING_BATCH_STATUSES
        ).values_list("ticket_id", "batch__number")
    )
    problems = []
    for ticket in locked:
        if ticket.pk in pending:
            problems.append(
                _("%(ticket)s 已在批次 %(batch)s 中，银行答复前不能重复提交。")
                % {"ticket": ticket.number, "batch": pending[ticket.pk]}
            )
        elif ticket.status != Ticket.Status.ESCALATED and not workflow.can_transition(
            ticket, workflow.AGENT, Ticket.Status.ESCALATED
        ):
            problems.append(
                _("%(ticket)s 当前状态为“%(status)s”，不能提交银行。")
                % {"ticket": ticket.number, "status": ticket.get_status_display()}
            )
    if problems:
        raise ValidationError(problems, code="tickets_not_escalatable")

    batch = EscalationBatch(
        number=f"tmp-{uuid.uuid4().hex[:16]}",
        acquirer_id=next(iter(acquirers)),
        note=scrub_text(note or "").strip(),
        created_by=actor,
    )
    batch.full_clean(exclude=["number"])
    batch.save()
    batch.number = f"ESC-{timezone.localdate(batch.created_at).year}-{batch.pk:06d}"
    batch.save(update_fields=["number"])
    EscalationItem.objects.bulk_create(
        [EscalationItem(batch=batch, ticket=ticket) for ticket in locked]
    )
    audit.record(
        actor=actor, action="escalation.create", obj=batch, tickets=[t.number for t in locked]
    )
    return batch


def _lock(batch):
    return EscalationBatch.objects.select_for_update().get(pk=batch.pk)


def _move(batch, to_status):
    if (batch.status, to_status) not in BATCH_TRANSITIONS:
        raise ValidationError(
            _("批次不能从“%(old)s”改为“%(new)s”。")
            % {"old": Batch(batch.status).label, "new": Batch(to_status).label},
            code="batch_transition_not_allowed",
        )


@transaction.atomic
def escalation_mark_sent(*, batch, actor):
    """draft → sent: every ticket moves to "escalated to bank" (all or nothing)."""
    from diagnosis.tickets.services import ticket_change_status

    _check_actor(actor)
    batch = _lock(batch)
    _move(batch, Batch.SENT)
    items = list(batch.items.select_related("ticket").order_by("pk"))
    if not items:
        raise ValidationError(_("批次里没有工单，不能发送。"), code="empty")
    problems = []
    for item in items:
        ticket = item.ticket
        if ticket.status == Ticket.Status.ESCALATED:
            continue
        try:
            ticket_change_status(ticket=ticket, actor=actor, status=Ticket.Status.ESCALATED)
        except ValidationError as error:
            problems.append(f"{ticket.number}: {' '.join(error.messages)}")
    if problems:
        raise ValidationError(problems, code="tickets_not_escalatable")
    now = timezone.now()
    TicketEvent.objects.bulk_create(
        [
            TicketEvent(
                ticket=item.ticket,
                kind=TicketEvent.Kind.ESCALATED,
                author=actor,
                is_internal=True,
                new_value=batch.number,
                body=_("已随批次 %(batch)s 提交给 %(bank)s。")
                % {"batch": batch.number, "bank": _bank_name(batch.acquirer)},
                created_at=now,
            )
            for item in items
        ]
    )
    batch.status = Batch.SENT
    batch.sent_at = now
    batch.save(update_fields=["status", "sent_at"])
    audit.record(actor=actor, action="escalation.sent", obj=batch)
    return batch


@transaction.atomic
def escalation_mark_answered(*, batch, actor):
    _check_actor(actor)
    batch = _lock(batch)
    _move(batch, Batch.ANSWERED)
    batch.status = Batch.ANSWERED
    batch.answered_at = timezone.now()
    batch.save(update_fields=["status", "answered_at"])
    audit.record(actor=actor, action="escalation.answered", obj=batch)
    return batch


@transaction.atomic
def escalation_mark_closed(*, batch, actor):
    _check_actor(actor)
    batch = _lock(batch)
    _move(batch, Batch.CLOSED)
    batch.status = Batch.CLOSED
    batch.closed_at = timezone.now()
    batch.save(update_fields=["status", "closed_at"])
    audit.record(actor=actor, action="escalation.closed", obj=batch)
    return batch


@transaction.atomic
def escalation_set_bank_reference(*, item, reference, actor=None):
    """The bank's reference for one ticket; only once the batch has been sent."""
    if actor is not None:
        _check_actor(actor)
    batch = _lock(item.batch)
    if batch.status not in (Batch.SENT, Batch.ANSWERED):
        raise ValidationError(_("批次发送后、关闭前才能填写银行受理号。"), code="batch_not_sent")
    reference = scrub_text(reference or "").strip()
    item = EscalationItem.objects.select_for_update().get(pk=item.pk)
    item.bank_reference = reference
    item.full_clean(exclude=["batch", "ticket"])
    old = EscalationItem.objects.filter(pk=item.pk).values_list("bank_reference", flat=True)[0]
    if old == reference:
        return item
    item.save(update_fields=["bank_reference"])
    TicketEvent.objects.create(
        ticket_id=item.ticket_id,
        kind=TicketEvent.Kind.ESCALATED,
        author=actor,
        is_internal=True,
        old_value=old[:64],
        new_value=reference[:64],
        body=_("批次 %(batch)s 的银行受理号已更新。") % {"batch": batch.number},
    )
    return item


@transaction.atomic
def escalation_remove_item(*, item, actor):
    """Take a ticket out of a draft batch."""
    _check_actor(actor)
    batch = _lock(item.batch)
    if batch.status != Batch.DRAFT:
        raise ValidationError(_("只有草稿批次可以移除工单。"), code="batch_not_draft")
    audit.record(actor=actor, action="escalation.remove_item", obj=batch, ticket=item.ticket.number)
    item.delete()
    return batch


@transaction.atomic
def escalation_discard(*, batch, actor):
    """Delete a draft batch (its tickets are unchanged)."""
    _check_actor(actor)
    batch = _lock(batch)
    if batch.status != Batch.DRAFT:
        raise ValidationError(_("只有草稿批次可以删除。"), code="batch_not_draft")
    audit.record(actor=actor, action="escalation.discard", obj=batch)
    batch.delete()


@transaction.atomic
def escalation_request_send(*, batch, actor, resend=False):
    """Queue the mail of the batch file to the bank (diagnosis/escalations/mailing.py).

    A first send is for a draft: the task moves the batch to "sent" once the mail went out. A
    resend is explicit, for a batch already sent or answered, and is logged in the audit trail.
    """
    from config.tasks import enqueue_on_commit
    from diagnosis.escalations.tasks import send_batch_to_bank
    from diagnosis.models.tickets import SendState

    _check_actor(actor)
    batch = _lock(batch)
    if resend and batch.status not in (Batch.SENT, Batch.ANSWERED):
        raise ValidationError(_("只有已发送、未关闭的批次可以重新发送。"), code="not_sent")
    if not resend and batch.status != Batch.DRAFT:
        raise ValidationError(
            _("批次已发送；如需再次发送邮件，请使用“重新发送”。"), code="not_draft"
        )
    if batch.send_state == SendState.QUEUED:
        raise ValidationError(_("邮件正在发送，请稍后刷新页面。"), code="already_queued")
    if not batch.acquirer.escalation_email:
        raise ValidationError(
            _("%(bank)s 没有升级联系邮箱，请管理员先在后台填写。")
            % {"bank": _bank_name(batch.acquirer)},
            code="no_contact",
        )
    if not batch.items.exists():
        raise ValidationError(_("批次里没有工单，不能发送。"), code="empty")
    batch.send_state = SendState.QUEUED
    batch.send_error = ""
    batch.save(update_fields=["send_state", "send_error"])
    audit.record(
        actor=actor,
        action="escalation.resend_requested" if resend else "escalation.send_requested",
        obj=batch,
    )
    enqueue_on_commit(send_batch_to_bank, batch.pk, actor.pk, resend)
    return batch


def _outcome_reply(item, bank, row) -> str:
    """The merchant's public reply for the bank's answer, in the merchant's language, from the
    editable template of the outcome (BankOutcomeReply)."""
    from diagnosis.models import BankOutcomeReply

    ticket = item.ticket
    language = getattr(ticket.created_by, "language", "") or "zh-hans"
    english = language.startswith("en")
    template = BankOutcomeReply.objects.filter(outcome=row.outcome).first()
    with translation.override("en" if english else "zh-hans"):
        if template is not None:
            body = template.body_en if english else template.body_zh
        else:
            body = _("%(bank)s 的答复：%(outcome)s。") % {
                "bank": "{bank}",
                "outcome": BankOutcome(row.outcome).label,
            }
        values = {
            "{bank}": bank.name,
            "{reference}": row.reference or "—",
            "{ticket}": ticket.number,
            "{comment}": row.comment,
        }
    for placeholder, value in values.items():
        body = body.replace(placeholder, value)
    return " ".join(body.split()) if "\n" not in body else body.strip()


@transaction.atomic
def escalation_replies_apply(*, actor, bank, rows, batch=None):
    """Record the bank's answers of `rows` (replies.ReplyRow): all of them or none.

    Rows are classified again here, under lock, against the data as it is now (a preview may be
    stale); only "matched" rows are written: bank reference and outcome on the item, an internal
    note, the public reply to the merchant (ticket_reply) and the status change
    (ticket_change_status). A batch whose every ticket has an answer becomes "answered".
    Returns the entries (replies.Entry) with their statuses.
    """
    from diagnosis.escalations import replies
    from diagnosis.escalations.selectors import reply_candidates
    from diagnosis.tickets.services import ticket_change_status, ticket_reply

    _check_actor(actor)
    if batch is not None:
        batch = _lock(batch)
        if batch.status not in (Batch.SENT, Batch.ANSWERED):
            raise ValidationError(
                _("只有已发送给银行的批次才能导入银行答复。"), code="batch_not_sent"
            )
    batch_ids = (
        [batch.pk]
        if batch is not None
        else list(
            EscalationBatch.objects.filter(
                acquirer=bank, status__in=[Batch.SENT, Batch.ANSWERED]
            ).values_list("pk", flat=True)
        )
    )
    list(EscalationBatch.objects.select_for_update().filter(pk__in=batch_ids).order_by("pk"))
    entries = replies.classify(rows, reply_candidates(bank=bank, batch=batch))
    now = timezone.now()
    touched = set()
    for entry in entries:
        if entry.status != replies.MATCHED:
            continue
        item, row = entry.item, entry.row
        item.outcome = row.outcome
        item.bank_reference = row.reference or item.bank_reference
        item.answered_at = now
        item.save(update_fields=["outcome", "bank_reference", "answered_at"])
        touched.add(item.batch_id)
        TicketEvent.objects.create(
            ticket=item.ticket,
            kind=TicketEvent.Kind.ESCALATED,
            author=actor,
            is_internal=True,
            new_value=(row.reference or "")[:64],
            body=_("银行答复（批次 %(batch)s，文件第 %(line)d 行）：%(outcome)s。%(comment)s")
            % {
                "batch": item.batch.number,
                "line": row.line,
                "outcome": BankOutcome(row.outcome).label,
                "comment": row.comment,
            },
        )
        ticket_reply(ticket=item.ticket, author=actor, body=_outcome_reply(item, bank, row))
        target = replies.OUTCOME_STATUS[row.outcome]
        if item.ticket.status != target:
            ticket_change_status(ticket=item.ticket, actor=actor, status=target)
    for batch_id in touched:
        answered = not EscalationItem.objects.filter(batch_id=batch_id, outcome="").exists()
        updated = (
            EscalationBatch.objects.filter(pk=batch_id, status=Batch.SENT).update(
                status=Batch.ANSWERED, answered_at=now
            )
            if answered
            else 0
        )
        if updated:
            audit.record(
                actor=actor,
                action="escalation.answered",
                obj=EscalationBatch.objects.get(pk=batch_id),
                by="reply_import",
            )
    counts = replies.summary(entries)
    audit.record(
        actor=actor,
        action="escalation.replies_imported",
        obj=batch if batch is not None else bank,
        **{key: str(value) for key, value in counts.items()},
    )
    return entries
