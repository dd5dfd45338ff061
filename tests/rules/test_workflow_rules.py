"""The ticket workflow written out whole: every status × target × role, and every status's group.

A change to a rule changes exactly one visible cell below. Cells: `A` = agents may make the move,
`M` = the ticket's merchant may, `AM` = both, `-` = nobody; `M*` means the merchant only within
the reopen window (14 days after resolving/closing). The row is the current status, the column
the target.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from diagnosis.models import Ticket
from diagnosis.tickets import workflow

S = Ticket.Status
A, M = workflow.AGENT, workflow.MERCHANT

COLUMNS = ["new", "in_progress", "waiting_merchant", "escalated", "resolved", "closed"]
TABLE = """
new               -  A    A  A  A  AM
in_progress       -  -    A  A  A  AM
waiting_merchant  -  AM   -  A  A  AM
escalated         -  A    A  -  A  AM
resolved          -  AM*  -  -  -  AM
closed            -  AM*  -  -  -  -
"""

MEMBERSHIP = {  # status → (open?, done?)
    "new": (True, False),
    "in_progress": (True, False),
    "waiting_merchant": (True, False),
    "escalated": (True, False),
    "resolved": (False, True),
    "closed": (False, True),
}


def _table():
    cells = {}
    for line in TABLE.strip().splitlines():
        row, *values = line.split()
        assert len(values) == len(COLUMNS), line
        for column, value in zip(COLUMNS, values, strict=True):
            cells[(row, column)] = value
    return cells


CELLS = _table()


def _ticket(status, *, done_days_ago=1):
    now = timezone.now()
    done_at = now - timedelta(days=done_days_ago)
    return Ticket(
        status=status,
        created_at=now - timedelta(days=30),
        resolved_at=done_at if status == S.RESOLVED else None,
        closed_at=done_at if status == S.CLOSED else None,
    )


def test_the_table_names_every_status_once():
    assert sorted(COLUMNS) == sorted(S.values)
    assert {row for row, _column in CELLS} == set(S.values)


@pytest.mark.parametrize(("old", "new"), sorted(CELLS))
def test_every_move_for_every_role(old, new):
    cell = CELLS[(old, new)]
    ticket = _ticket(old)
    assert workflow.can_transition(ticket, A, new) is ("A" in cell)
    assert workflow.can_transition(ticket, M, new) is ("M" in cell)
    assert workflow.can_transition(ticket, None, new) is False
    assert workflow.can_transition(ticket, "admin", new) is False
    # The same fact, seen through the transition table the services and templates read.
    listed = workflow.TRANSITIONS.get((old, new), frozenset())
    assert listed == frozenset(role for role, letter in ((A, "A"), (M, "M")) if letter in cell)


@pytest.mark.parametrize(("old", "new"), sorted(CELLS))
def test_every_refusal_names_its_reason(old, new):
    cell = CELLS[(old, new)]
    for role, letter in ((A, "A"), (M, "M")):
        ticket = _ticket(old, done_days_ago=20)  # outside the merchant's reopen window
        allowed = letter in cell and not (role == M and cell.endswith("*"))
        if allowed:
            workflow.check_transition(ticket, role, new)
            continue
        with pytest.raises(workflow.TransitionNotAllowed) as error:
            workflow.check_transition(ticket, role, new)
        code = error.value.error_dict["status"][0].code
        if old == new:
            assert code == "same_status"
        elif role == M and cell.endswith("*"):
            assert code == "reopen_expired"
        else:
            assert code == "transition_not_allowed"


def test_unknown_target_status_is_its_own_error():
    with pytest.raises(workflow.TransitionNotAllowed) as error:
        workflow.check_transition(_ticket(S.NEW), A, "bogus")
    assert error.value.error_dict["status"][0].code == "unknown_status"


@pytest.mark.parametrize(("old", "new"), [k for k, v in CELLS.items() if v.endswith("*")])
def test_merchant_reopen_window_edges(old, new):
    now = timezone.now()
    inside = _ticket(old)
    inside.resolved_at = inside.closed_at = now - workflow.REOPEN_WINDOW
    outside = _ticket(old)
    outside.resolved_at = outside.closed_at = now - workflow.REOPEN_WINDOW - timedelta(seconds=1)
    assert workflow.can_transition(inside, M, new, now=now)
    assert not workflow.can_transition(outside, M, new, now=now)
    assert workflow.can_transition(outside, A, new, now=now)  # agents any time
    assert timedelta(days=14) == workflow.REOPEN_WINDOW


@pytest.mark.parametrize("status", sorted(MEMBERSHIP))
def test_every_status_is_open_or_done(status):
    is_open, is_done = MEMBERSHIP[status]
    assert (status in workflow.OPEN_STATUSES) is is_open
    assert (status in workflow.DONE_STATUSES) is is_done
    assert workflow.is_open(status) is is_open


def test_allowed_transitions_follow_the_flow_order():
    for old in COLUMNS:
        for role, letter in ((A, "A"), (M, "M")):
            expected = [new for new in COLUMNS if letter in CELLS[(old, new)]]
            assert workflow.allowed_transitions(_ticket(old), role) == expected, (old, role)
    assert list(workflow.FLOW) == COLUMNS


def test_reopen_deadline_counts_from_when_the_ticket_was_done():
    now = timezone.now()
    resolved = Ticket(status=S.RESOLVED, created_at=now, resolved_at=now - timedelta(days=3))
    closed = Ticket(status=S.CLOSED, created_at=now, closed_at=now - timedelta(days=5))
    closed_only_resolved = Ticket(
        status=S.CLOSED, created_at=now, resolved_at=now - timedelta(days=2)
    )
    assert workflow.reopen_deadline(resolved) == now - timedelta(days=3) + workflow.REOPEN_WINDOW
    assert workflow.reopen_deadline(closed) == now - timedelta(days=5) + workflow.REOPEN_WINDOW
    assert (
        workflow.reopen_deadline(closed_only_resolved)
        == now - timedelta(days=2) + workflow.REOPEN_WINDOW
    )
    for status in ("new", "in_progress", "waiting_merchant", "escalated"):
        assert workflow.reopen_deadline(Ticket(status=status, created_at=now)) is None


def test_reopen_deadline_without_a_done_time_counts_from_the_last_change():
    now = timezone.now()
    updated = Ticket(
        status=S.RESOLVED, created_at=now - timedelta(days=30), updated_at=now - timedelta(days=2)
    )
    assert workflow.reopen_deadline(updated) == now - timedelta(days=2) + workflow.REOPEN_WINDOW
    created = Ticket(status=S.CLOSED, created_at=now - timedelta(days=30), updated_at=None)
    assert workflow.reopen_deadline(created) == now - timedelta(days=30) + workflow.REOPEN_WINDOW


def test_a_role_read_from_a_form_is_compared_by_value():
    role = "".join(["merch", "ant"])  # equal to MERCHANT, not the same object
    ticket = _ticket(S.CLOSED, done_days_ago=20)
    assert not workflow.can_transition(ticket, role, S.IN_PROGRESS)
    with pytest.raises(workflow.TransitionNotAllowed) as error:
        workflow.check_transition(ticket, role, S.IN_PROGRESS)
    assert error.value.error_dict["status"][0].code == "reopen_expired"


def test_keyword_and_keyword_only_arguments():
    ticket = _ticket(S.NEW)
    now = timezone.now()
    workflow.check_transition(ticket=ticket, role=A, to_status=S.IN_PROGRESS, now=now)
    assert workflow.can_transition(ticket=ticket, role=A, to_status=S.IN_PROGRESS, now=now)
    assert workflow.allowed_transitions(ticket=ticket, role=M, now=now) == [S.CLOSED]
    for function in (workflow.check_transition, workflow.can_transition):
        with pytest.raises(TypeError):
            function(ticket, A, S.IN_PROGRESS, now)  # `now` is keyword-only
    with pytest.raises(TypeError):
        workflow.allowed_transitions(ticket, A, now)
