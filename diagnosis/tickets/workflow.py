"""Ticket statuses and the allowed transitions: the ONE place that says which move is legal.

    new → in progress → waiting for merchant → escalated to bank → resolved → closed

plus the moves a real desk needs (agents step back, merchants close or reopen their own ticket).
Each transition names the roles that may perform it:

- ``AGENT``: a support agent (or superuser) working on any ticket;
- ``MERCHANT``: a user of the merchant the ticket belongs to.

This module knows roles, not users: ``diagnosis.core.permissions.ticket_role(user, ticket)`` turns a
user into a role, and the permission functions there (``can_change_ticket_status`` …) combine
both. Services call ``check_transition``; templates and the desk ask ``allowed_transitions``.
"""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from diagnosis.models import Ticket

Status = Ticket.Status

AGENT = "agent"
MERCHANT = "merchant"
ROLES = (AGENT, MERCHANT)

# The happy path, in order (for progress displays and documentation).
FLOW = (
    Status.NEW,
    Status.IN_PROGRESS,
    Status.WAITING_MERCHANT,
    Status.ESCALATED,
    Status.RESOLVED,
    Status.CLOSED,
)
OPEN_STATUSES = frozenset(
    {Status.NEW, Status.IN_PROGRESS, Status.WAITING_MERCHANT, Status.ESCALATED}
)
DONE_STATUSES = frozenset({Status.RESOLVED, Status.CLOSED})

# Merchants may reopen a resolved or closed ticket for this long after it was resolved/closed.
REOPEN_WINDOW = timedelta(days=14)

_BOTH = frozenset({AGENT, MERCHANT})
_AGENT = frozenset({AGENT})

# (from, to) → roles allowed to make the move. Anything not listed is not allowed.
TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    # new
    (Status.NEW, Status.IN_PROGRESS): _AGENT,
    (Status.NEW, Status.WAITING_MERCHANT): _AGENT,
    (Status.NEW, Status.ESCALATED): _AGENT,
    (Status.NEW, Status.RESOLVED): _AGENT,
    (Status.NEW, Status.CLOSED): _BOTH,
    # in progress
    (Status.IN_PROGRESS, Status.WAITING_MERCHANT): _AGENT,
    (Status.IN_PROGRESS, Status.ESCALATED): _AGENT,
    (Status.IN_PROGRESS, Status.RESOLVED): _AGENT,
    (Status.IN_PROGRESS, Status.CLOSED): _BOTH,
    # waiting for the merchant: the merchant answering puts it back in progress
    (Status.WAITING_MERCHANT, Status.IN_PROGRESS): _BOTH,
    (Status.WAITING_MERCHANT, Status.ESCALATED): _AGENT,
    (Status.WAITING_MERCHANT, Status.RESOLVED): _AGENT,
    (Status.WAITING_MERCHANT, Status.CLOSED): _BOTH,
    # escalated to the bank
    (Status.ESCALATED, Status.IN_PROGRESS): _AGENT,
    (Status.ESCALATED, Status.WAITING_MERCHANT): _AGENT,
    (Status.ESCALATED, Status.RESOLVED): _AGENT,
    (Status.ESCALATED, Status.CLOSED): _BOTH,
    # done: close, or reopen (merchants only within REOPEN_WINDOW, see can_transition)
    (Status.RESOLVED, Status.CLOSED): _BOTH,
    (Status.RESOLVED, Status.IN_PROGRESS): _BOTH,
    (Status.CLOSED, Status.IN_PROGRESS): _BOTH,
}

# Moves that count as reopening (the 14-day window applies to merchants).
REOPEN_TRANSITIONS = frozenset(
    {(Status.RESOLVED, Status.IN_PROGRESS), (Status.CLOSED, Status.IN_PROGRESS)}
)


class TransitionNotAllowed(ValidationError):
    """Raised by `check_transition`; a ValidationError so forms and the API show it as such."""


def is_open(status: str) -> bool:
    return status in OPEN_STATUSES


def reopen_deadline(ticket):
    """Until when a merchant may reopen this resolved/closed ticket (None if it is open)."""
    if ticket.status == Status.CLOSED:
        done_at = ticket.closed_at or ticket.resolved_at
    elif ticket.status == Status.RESOLVED:
        done_at = ticket.resolved_at or ticket.closed_at
    else:
        return None
    done_at = done_at or ticket.updated_at or ticket.created_at
    return done_at + REOPEN_WINDOW


def can_transition(ticket, role: str | None, to_status: str, *, now=None) -> bool:
    """May `role` move `ticket` to `to_status` now?"""
    if role not in ROLES:
        return False
    move = (ticket.status, to_status)
    if role not in TRANSITIONS.get(move, ()):
        return False
    if role == MERCHANT and move in REOPEN_TRANSITIONS:
        deadline = reopen_deadline(ticket)
        return deadline is not None and (now or timezone.now()) <= deadline
    return True


def allowed_transitions(ticket, role: str | None, *, now=None) -> list[str]:
    """Target statuses `role` may choose for `ticket`, in flow order."""
    return [status for status in FLOW if can_transition(ticket, role, status, now=now)]


def _error(message, code):
    return TransitionNotAllowed({"status": ValidationError(message, code=code)})


def check_transition(ticket, role: str | None, to_status: str, *, now=None) -> None:
    """Raise TransitionNotAllowed (a ValidationError on "status") unless the move is allowed.

    Error codes: unknown_status, same_status, reopen_expired, transition_not_allowed.
    """
    if to_status not in Status.values:
        raise _error(_("没有这个状态。"), "unknown_status")
    if ticket.status == to_status:
        raise _error(_("工单已经是这个状态。"), "same_status")
    if can_transition(ticket, role, to_status, now=now):
        return
    move = (ticket.status, to_status)
    if role == MERCHANT and move in REOPEN_TRANSITIONS and role in TRANSITIONS[move]:
        raise _error(
            _("工单解决或关闭已超过 14 天，不能再重新打开；请新建工单。"), "reopen_expired"
        )
    raise _error(
        _("不能把工单从“%(old)s”改为“%(new)s”。")
        % {"old": Status(ticket.status).label, "new": Status(to_status).label},
        "transition_not_allowed",
    )
