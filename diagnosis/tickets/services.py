"""Ticket writes: create, reply, change status, assign, prioritise, close, reopen.

Every function is keyword-only, runs in one transaction, validates with `full_clean()` before it
saves, writes TicketEvent history, and leaves email and incident detection to background tasks
enqueued with the write (config.tasks.enqueue_on_commit → diagnosis.tickets.tasks,
diagnosis.insight.tasks): nothing slow or fallible runs inside the request. Card data: the card
field goes through `mask_card_field`, every free text (description, wizard summary, replies,
notes, status notes, attachment names) through `scrub_text`, before anything is stored.

Permission failures raise `PermissionDenied`; invalid input raises `ValidationError` (a dict keyed
by Ticket field names: "tid", "transaction_time", "amount", "card_masked", …); a status move the
workflow does not allow raises `workflow.TransitionNotAllowed` (a ValidationError on "status").
"""

import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.tasks import enqueue_on_commit
from diagnosis.core import permissions
from diagnosis.core.cards import mask_card_field, scrub_text
from diagnosis.core.validators import (
    response_code_validator,
    rrn_validator,
    six_digits_validator,
    tid_validator,
    validate_transaction_time,
)
from diagnosis.desk import live as desk_live
from diagnosis.insight import rollups
from diagnosis.insight.detection import INCIDENT_CATEGORIES
from diagnosis.models import Attachment, Terminal, Ticket, TicketCounter, TicketEvent
from diagnosis.tickets import sla, sla_clock, tasks, workflow
from diagnosis.tickets.attachments import clean_original_name, validate_upload

NUMBER_PREFIX = "DD"
DUPLICATE_WINDOW = timedelta(minutes=10)
# A transaction time a little ahead of the server clock is a terminal clock, not the future.
CLOCK_SKEW = timedelta(minutes=5)
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
MAX_ATTACHMENTS = 5

__all__ = [
    "ticket_assign",
    "ticket_create_rate_check",
    "ticket_auto_close",
    "ticket_change_status",
    "ticket_close",
    "ticket_create",
    "ticket_find_duplicates",
    "ticket_reopen",
    "ticket_reply",
    "ticket_set_priority",
]


# --- helpers -------------------------------------------------------------------------------------


def _next_number(year: int) -> str:
    """DD-<year>-<6 digits>, in one statement: the per-year counter row is created or
    incremented with INSERT … ON CONFLICT DO UPDATE … RETURNING (PostgreSQL, SQLite ≥ 3.35),
    and stays locked until the transaction ends, so concurrent tickets get consecutive numbers
    and two first tickets of a year cannot collide either.
    """
    table = connection.ops.quote_name(TicketCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (year, last) VALUES (%s, 1) "  # noqa: S608 - our table name
            f"ON CONFLICT (year) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            [year],
        )
        last = cursor.fetchone()[0]
    return f"{NUMBER_PREFIX}-{year}-{last:06d}"


def _clean_text(value) -> str:
    return scrub_text(str(value or "")).strip()


def _clean_card(value, errors: dict) -> str:
    try:
        return mask_card_field(str(value or ""))
    except ValidationError as error:
        errors.setdefault("card_masked", []).extend(error.messages)
        return ""


def _run(validator, value, field: str, errors: dict):
    if not value:
        return
    try:
        validator(value)
    except ValidationError as error:
        errors.setdefault(field, []).extend(error.messages)


def _raise(errors: dict):
    if errors:
        raise ValidationError(errors)


# Foreign keys the services set from objects they already hold (loaded, permission-checked):
# full_clean would re-read each one with a query of its own.
RELATIONS_IN_HAND = (
    "merchant",
    "acquirer",
    "created_by",
    "terminal",
    "category",
    "ticket",
    "author",
)


def _full_clean(instance, errors: dict | None = None, exclude=None):
    """full_clean, merged with errors found before; raises one ValidationError for all of them.

    Fields that already have an error are not cleaned again (no "cannot be null" on top of
    "enter a valid amount").
    """
    errors = {key: list(value) for key, value in (errors or {}).items()}
    exclude = [*(exclude or ()), *errors]
    try:
        instance.full_clean(exclude=exclude, validate_unique=False)
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            for message in messages:
                if message not in errors.setdefault(field, []):
                    errors[field].append(message)
    _raise(errors)


def _locked(ticket) -> Ticket:
    """Re-read the ticket with a row lock so concurrent changes are applied one after another."""
    return Ticket.objects.select_for_update().get(pk=ticket.pk)


def _refresh(target: Ticket, source: Ticket) -> Ticket:
    """Copy the saved state into the caller's instance, so both objects tell the truth."""
    for field in Ticket._meta.concrete_fields:
        if field.generated:
            continue
        setattr(target, field.attname, getattr(source, field.attname))
    return target


def _event(ticket, kind, *, author, body="", internal=False, old="", new="") -> TicketEvent:
    event = TicketEvent(
        ticket=ticket,
        kind=kind,
        author=author,
        is_internal=internal,
        body=_clean_text(body),
        old_value=str(old)[:64],
        new_value=str(new)[:64],
    )
    _full_clean(event, exclude=RELATIONS_IN_HAND)
    event.save()
    desk_live.tickets_changed()
    if kind != TicketEvent.Kind.CREATED:
        sla_clock.ticket_sla_refresh(ticket)  # a pause may start or end, a target be met
    return event


def _save_attachments(ticket, event, uploads, user) -> list[Attachment]:
    uploads = [upload for upload in uploads or () if upload]
    if len(uploads) > MAX_ATTACHMENTS:
        raise ValidationError(
            {"attachments": _("一次最多上传 %(count)s 个附件。") % {"count": MAX_ATTACHMENTS}}
        )
    errors = []
    sniffed = []
    for upload in uploads:
        try:
            sniffed.append((upload, validate_upload(upload)))
        except ValidationError as error:
            errors.extend(error.messages)
    if errors:
        raise ValidationError({"attachments": errors})
    saved = []
    for upload, content_type in sniffed:
        attachment = Attachment(
            ticket=ticket,
            event=event,
            original_name=clean_original_name(upload.name),
            content_type=content_type,
            size=upload.size,
            uploaded_by=user,
        )
        upload.seek(0)
        # upload_to gives a random name; the original (scrubbed) name is only metadata.
        attachment.file.save("upload", upload, save=False)
        attachment.full_clean(exclude=["file"])
        attachment.save()
        saved.append(attachment)
    return saved


def _parse_amount(value, errors: dict):
    if isinstance(value, Decimal):
        amount = value
    else:
        try:
            amount = Decimal(str(value).strip().replace(",", ""))
        except (InvalidOperation, ValueError):
            errors.setdefault("amount", []).append(_("请填写正确的金额，例如 128.50。"))
            return None
    if not amount.is_finite():
        errors.setdefault("amount", []).append(_("请填写正确的金额，例如 128.50。"))
        return None
    if amount <= 0:
        errors.setdefault("amount", []).append(_("金额必须大于 0。"))
    elif amount.as_tuple().exponent < -2:
        errors.setdefault("amount", []).append(_("金额最多两位小数。"))
    elif amount >= Decimal("10000000000"):
        errors.setdefault("amount", []).append(_("金额太大。"))
    return amount


def _category_for(code: str, category):
    if category is not None or not code:
        return category
    from knowledge.models import ResponseCode

    found = ResponseCode.objects.filter(code=code).select_related("category").first()
    return found.category if found else None


# --- create ----------------------------------------------------------------------------------


def ticket_create_rate_check(request, *, merchant, token=None) -> None:
    """Ticket creation is limited (TICKET_CREATE_RATE, default 30 a minute) per merchant and,
    for the API, per token: each new ticket mails every agent. Call before ticket_create();
    raises diagnosis.core.ratelimits.RateLimited (answered with a 429 page or JSON)."""
    from diagnosis.core.ratelimits import check_rate, rate_setting

    rate = rate_setting("TICKET_CREATE_RATE", "30/m")
    check_rate(request, group="ticket-create", key=f"merchant:{merchant.pk}", rate=rate)
    if token is not None:
        check_rate(request, group="ticket-create", key=f"token:{token.pk}", rate=rate)


@transaction.atomic
def ticket_create(
    *,
    merchant,
    user,
    transaction_time,
    amount,
    tid: str = "",
    terminal: Terminal | None = None,
    currency: str = "CNY",
    card_number: str = "",
    card_type: str = Ticket.CardType.UNKNOWN,
    response_code: str = "",
    rrn: str = "",
    trace_number: str = "",
    batch_number: str = "",
    description: str = "",
    wizard_summary: str = "",
    category=None,
    attachments=(),
    now=None,
) -> Ticket:
    """Record a declined transaction for `merchant`, submitted by `user` (a user of it or an agent).

    `terminal` (one of the merchant's) or `tid` (typed; linked to the merchant's terminal when it
    is one) is required. `card_number` may be full or masked: only the masked form is stored.
    """
    if user is not None and not (
        getattr(user, "merchant_id", None) == merchant.pk or permissions.is_agent(user)
    ):
        raise PermissionDenied
    now = now or timezone.now()
    errors: dict[str, list] = {}

    # terminal / TID
    if terminal is not None and terminal.merchant_id != merchant.pk:
        errors.setdefault("tid", []).append(_("请选择本商户的终端。"))
        terminal = None
    tid = (terminal.tid if terminal is not None else str(tid or "")).strip().upper()
    if not tid:
        errors.setdefault("tid", []).append(_("请选择终端或填写终端号（TID）。"))
    else:
        _run(tid_validator, tid, "tid", errors)
        if terminal is None and "tid" not in errors:
            terminal = Terminal.objects.filter(merchant=merchant, tid__iexact=tid).first()

    # transaction time
    if transaction_time is None:
        errors.setdefault("transaction_time", []).append(_("请填写交易时间。"))
    else:
        _run(validate_transaction_time, transaction_time, "transaction_time", errors)
        if "transaction_time" in errors:
            transaction_time = None
        elif timezone.is_naive(transaction_time):
            transaction_time = timezone.make_aware(transaction_time)
    if transaction_time is not None and transaction_time > now + CLOCK_SKEW:
        errors.setdefault("transaction_time", []).append(_("交易时间不能晚于现在。"))

    amount = _parse_amount(amount, errors)
    currency = str(currency or "CNY").strip().upper()
    if not CURRENCY_RE.match(currency):
        errors.setdefault("currency", []).append(_("币种是 3 位字母代码，例如 CNY。"))
    card_masked = _clean_card(card_number, errors)
    response_code = str(response_code or "").strip().upper()
    _run(response_code_validator, response_code, "response_code", errors)
    rrn = str(rrn or "").strip().upper()
    _run(rrn_validator, rrn, "rrn", errors)
    trace_number = str(trace_number or "").strip()
    _run(six_digits_validator, trace_number, "trace_number", errors)
    batch_number = str(batch_number or "").strip()
    _run(six_digits_validator, batch_number, "batch_number", errors)

    ticket = Ticket(
        merchant=merchant,
        acquirer_id=merchant.acquirer_id,
        created_by=user,
        terminal=terminal,
        tid=tid,
        transaction_time=transaction_time,
        amount=amount,
        currency=currency,
        card_masked=card_masked,
        card_type=card_type or Ticket.CardType.UNKNOWN,
        response_code=response_code,
        category=_category_for(response_code, category),
        rrn=rrn,
        trace_number=trace_number,
        batch_number=batch_number,
        description=_clean_text(description),
        wizard_summary=_clean_text(wizard_summary),
        status=Ticket.Status.NEW,
        created_at=now,
        first_response_due=sla.first_response_due(now),
        sla_due_at=sla_clock.new_ticket_due(now),
        number="DD-pending",
    )
    _full_clean(ticket, errors, exclude=RELATIONS_IN_HAND)
    ticket.number = _next_number(timezone.localtime(now).year)
    ticket.save()
    event = _event(ticket, TicketEvent.Kind.CREATED, author=user, new=ticket.status)
    _save_attachments(ticket, event, attachments, user)
    rollups.ticket_added(ticket)  # the dashboard's daily counts, in this transaction
    enqueue_on_commit(tasks.notify_ticket_created, ticket.pk)
    if ticket.category is not None and ticket.category.key in INCIDENT_CATEGORIES:
        # Decline insight: a bank-side ticket may complete a burst of one acquirer.
        from diagnosis.insight.tasks import detect_after_ticket

        enqueue_on_commit(detect_after_ticket, ticket.pk)
    return ticket


def ticket_find_duplicates(
    *, merchant, tid, rrn, card_masked, amount, transaction_time, exclude=None, limit=5
) -> list[Ticket]:
    """Likely duplicates of a decline about to be recorded for `merchant` (newest first).

    Same TID and RRN, or the same card (matched on its last 4 digits: one entry may be "1234",
    the other "622848******1234"), the same amount and a transaction time within 10 minutes.
    `card_masked` may also be a full number: it is masked here first.
    """
    tid = str(tid or "").strip().upper()
    rrn = str(rrn or "").strip().upper()
    try:
        card = mask_card_field(str(card_masked or ""))
    except ValidationError:
        card = ""
    conditions = Q()
    if tid and rrn:
        conditions |= Q(tid=tid, rrn=rrn)
    if card and amount is not None and transaction_time is not None:
        if timezone.is_naive(transaction_time):
            transaction_time = timezone.make_aware(transaction_time)
        try:
            amount = Decimal(str(amount))
        except (InvalidOperation, ValueError):
            amount = None
        try:
            window = (transaction_time - DUPLICATE_WINDOW, transaction_time + DUPLICATE_WINDOW)
        except OverflowError:  # the edge of the calendar: no duplicate can be that close
            window = None
        if amount is not None and amount.is_finite() and window is not None:
            conditions |= Q(
                card_masked__endswith=card[-4:],
                amount=amount,
                transaction_time__gte=window[0],
                transaction_time__lte=window[1],
            )
    if not conditions:
        return []
    queryset = Ticket.objects.filter(conditions, merchant=merchant)
    if exclude is not None:
        queryset = queryset.exclude(pk=getattr(exclude, "pk", exclude))
    return list(queryset.order_by("-created_at", "-pk")[:limit])


# --- conversation ------------------------------------------------------------------------------


@transaction.atomic
def ticket_reply(*, ticket, author, body, internal=False, attachments=()) -> TicketEvent:
    """A public reply (merchant or agent) or, with `internal=True`, an agent's internal note.

    The first public reply of an agent sets `first_responded_at`; a merchant answering a ticket
    that waits for them puts it back "in progress".
    """
    if internal and not permissions.can_add_internal_note(author, ticket):
        raise PermissionDenied
    if not internal and not permissions.can_reply_ticket(author, ticket):
        raise PermissionDenied
    locked = _locked(ticket)
    body = _clean_text(body)
    uploads = [upload for upload in attachments or () if upload]
    if not body and not uploads:
        raise ValidationError({"body": _("请填写回复内容或添加附件。")})
    kind = TicketEvent.Kind.NOTE if internal else TicketEvent.Kind.REPLY
    event = _event(locked, kind, author=author, body=body, internal=internal)
    _save_attachments(locked, event, uploads, author)

    role = permissions.ticket_role(author, locked)
    if (
        not internal
        and role == workflow.MERCHANT
        and locked.status == Ticket.Status.WAITING_MERCHANT
    ):
        status_event = _apply_status(locked, author, role, Ticket.Status.IN_PROGRESS)
        enqueue_on_commit(tasks.notify_ticket_status_changed, status_event.pk)
    elif not internal and role == workflow.AGENT and locked.first_responded_at is None:
        locked.first_responded_at = event.created_at
        locked.save(update_fields=["first_responded_at", "updated_at"])
        rollups.ticket_duration_changed(locked, "first_responded_at", None, event.created_at)
    else:
        locked.save(update_fields=["updated_at"])
    if not internal:
        enqueue_on_commit(tasks.notify_ticket_replied, event.pk)
    _refresh(ticket, locked)
    return event


@transaction.atomic
def ticket_system_reply(*, ticket, body, marker) -> TicketEvent | None:
    """A public reply written by DeclineDesk itself (no author), e.g. "the bank has recovered"
    when an incident the ticket is linked to is resolved. `marker` (kept in the event's
    new_value) makes it idempotent: a ticket gets one reply per marker. The merchant is
    notified like for an agent's reply."""
    locked = _locked(ticket)
    if TicketEvent.objects.filter(
        ticket=locked, kind=TicketEvent.Kind.REPLY, new_value=marker
    ).exists():
        return None
    event = _event(locked, TicketEvent.Kind.REPLY, author=None, body=_clean_text(body), new=marker)
    locked.save(update_fields=["updated_at"])
    enqueue_on_commit(tasks.notify_ticket_replied, event.pk)
    _refresh(ticket, locked)
    return event


# --- status ------------------------------------------------------------------------------------


def _apply_status(locked, actor, role, status, note="") -> TicketEvent:
    workflow.check_transition(locked, role, status)
    old = locked.status
    old_resolved_at = locked.resolved_at
    now = timezone.now()
    locked.status = status
    if status == Ticket.Status.RESOLVED:
        locked.resolved_at = now
    elif status == Ticket.Status.CLOSED:
        locked.closed_at = now
        locked.resolved_at = locked.resolved_at or (now if old == Ticket.Status.RESOLVED else None)
    elif old in workflow.DONE_STATUSES:
        # Reopened: the 14-day window starts again at the next resolution or closing.
        locked.resolved_at = None
        locked.closed_at = None
    _full_clean(locked, exclude=["number"])
    locked.save()
    rollups.ticket_duration_changed(locked, "resolved_at", old_resolved_at, locked.resolved_at)
    return _event(locked, TicketEvent.Kind.STATUS, author=actor, body=note, old=old, new=status)


@transaction.atomic
def ticket_change_status(*, ticket, actor, status, note="") -> Ticket:
    """Move `ticket` to `status` if the workflow allows `actor`'s role to; `note` is public."""
    role = permissions.ticket_role(actor, ticket)
    if role is None:
        raise PermissionDenied
    locked = _locked(ticket)
    event = _apply_status(locked, actor, role, status, note)
    enqueue_on_commit(tasks.notify_ticket_status_changed, event.pk)
    return _refresh(ticket, locked)


@transaction.atomic
def ticket_auto_close(*, ticket, clock_started_at, note="") -> bool:
    """Close a resolved ticket nobody answered since `clock_started_at` (the scheduler's
    auto-close job). False when it changed meanwhile (reopened, closed, answered)."""
    locked = _locked(ticket)
    if locked.status != Ticket.Status.RESOLVED:
        return False
    answered = TicketEvent.objects.filter(
        ticket=locked, kind=TicketEvent.Kind.REPLY, created_at__gt=clock_started_at
    ).exists()
    if answered or (locked.resolved_at and locked.resolved_at > clock_started_at):
        return False
    event = _apply_status(locked, None, workflow.AGENT, Ticket.Status.CLOSED, note)
    enqueue_on_commit(tasks.notify_ticket_status_changed, event.pk)
    _refresh(ticket, locked)
    return True


def ticket_close(*, ticket, actor, note="") -> Ticket:
    """The merchant (or an agent) closes the ticket."""
    return ticket_change_status(ticket=ticket, actor=actor, status=Ticket.Status.CLOSED, note=note)


def ticket_reopen(*, ticket, actor, note="") -> Ticket:
    """Back to "in progress"; merchants only within 14 days of resolving/closing."""
    return ticket_change_status(
        ticket=ticket, actor=actor, status=Ticket.Status.IN_PROGRESS, note=note
    )


# --- triage (agents) ---------------------------------------------------------------------------


@transaction.atomic
def ticket_assign(*, ticket, actor, assignee) -> Ticket:
    """Assign to an agent, or unassign with `assignee=None`. Agents only."""
    if not permissions.can_assign_tickets(actor):
        raise PermissionDenied
    if assignee is not None and not permissions.can_be_assigned(assignee):
        raise ValidationError({"assignee": _("只能指派给支持专员。")})
    locked = _locked(ticket)
    if locked.assignee_id == (assignee.pk if assignee else None):
        return _refresh(ticket, locked)
    old = locked.assignee.get_username() if locked.assignee_id else ""
    locked.assignee = assignee
    _full_clean(locked, exclude=["number"])
    locked.save(update_fields=["assignee", "updated_at"])
    _event(
        locked,
        TicketEvent.Kind.ASSIGN,
        author=actor,
        internal=True,
        old=old,
        new=assignee.get_username() if assignee else "",
    )
    if assignee is not None:
        enqueue_on_commit(tasks.notify_ticket_assigned, locked.pk, actor.pk)
    return _refresh(ticket, locked)


@transaction.atomic
def ticket_set_priority(*, ticket, actor, priority) -> Ticket:
    """Change the priority (low / normal / high / urgent). Agents only."""
    if not permissions.can_set_ticket_priority(actor):
        raise PermissionDenied
    if priority not in Ticket.Priority.values:
        raise ValidationError({"priority": _("没有这个优先级。")})
    locked = _locked(ticket)
    if locked.priority == priority:
        return _refresh(ticket, locked)
    old = locked.priority
    locked.priority = priority
    _full_clean(locked, exclude=["number"])
    locked.save(update_fields=["priority", "updated_at"])
    _event(locked, TicketEvent.Kind.PRIORITY, author=actor, internal=True, old=old, new=priority)
    return _refresh(ticket, locked)
