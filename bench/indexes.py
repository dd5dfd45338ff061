"""Which query uses each index of the ticket table (part of `make bench`).

Every index costs every ticket insert, so each one must earn its place. This runs the
application's own reads and writes on the benchmark data (pages through the test client, the
services and jobs called directly, deletions inside a rolled-back transaction), captures the SQL
they send to the ticket table, asks PostgreSQL for each statement's plan (EXPLAIN, no ANALYZE:
nothing runs) and reports, per index, the first query whose plan uses it — or that none does.
Foreign-key indexes are also used by PostgreSQL itself when a referenced row is deleted (the
SET NULL update), which the deletion statements show.
"""

import contextlib
import json
import re

TABLE = "diagnosis_ticket"


def _ticket_indexes(cursor) -> list[str]:
    cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s ORDER BY 1", [TABLE])
    return [row[0] for row in cursor.fetchall()]


def _plan_indexes(node) -> set:
    found = set()
    if isinstance(node, dict):
        if "Index Name" in node:
            found.add(node["Index Name"])
        for value in node.values():
            found |= _plan_indexes(value)
    elif isinstance(node, list):
        for value in node:
            found |= _plan_indexes(value)
    return found


def _workload(ctx):
    """(label, callable) pairs; each callable runs application code against the database."""
    from datetime import timedelta

    from django.test import Client
    from django.utils import timezone

    from diagnosis.insight import detection, terminal_health
    from diagnosis.models import Merchant, Terminal, Ticket, User
    from diagnosis.tickets import jobs
    from diagnosis.tickets.services import ticket_find_duplicates

    merchant_user = User.objects.get(username="bench-merchant")
    agent = User.objects.get(username="bench-agent")
    merchant = merchant_user.merchant
    ticket = Ticket.objects.filter(merchant=merchant).order_by("-created_at").first()
    sample = Ticket.objects.order_by("-pk").only("tid", "rrn", "category_id").first()
    acquirer = merchant.acquirer_id
    # Filters on a rare value are where an index matters (a common one is found as fast by
    # reading the newest tickets): the least frequent response code and category.
    from django.db.models import Count

    def rarest(field):
        rows = Ticket.objects.exclude(**{f"{field}__isnull": True}).values(field)
        return rows.annotate(n=Count("pk")).order_by("n").values_list(field, flat=True)[0]

    rare_code, rare_category = rarest("response_code"), rarest("category")

    from diagnosis.desk import live
    from tests import factories

    clients = {}
    for user in (agent, merchant_user):
        # Staff pass the second factor (else every desk page is a redirect to its set-up).
        clients[user.pk] = factories.sign_in(Client(HTTP_X_FORWARDED_PROTO="https"), user)

    def page(user, url):
        def run():
            live.tickets_changed()  # the queue's table is read, not served from its cache
            response = clients[user.pk].get(url)
            if response.status_code != 200:
                raise RuntimeError(f"{url} answered {response.status_code}, not the page")

        return run

    desk = [
        ("queue: open, newest (default)", "/desk/"),
        ("queue: all statuses, newest", "/desk/?status=all"),
        ("queue: one status, newest", "/desk/?status=new"),
        ("queue: status + acquirer + code", f"/desk/?status=new&acquirer={acquirer}&code=51"),
        ("queue: acquirer, all statuses", f"/desk/?status=all&acquirer={acquirer}"),
        ("queue: assigned to me", "/desk/?assignee=me"),
        ("queue: assigned to me, all statuses", "/desk/?assignee=me&status=all"),
        ("queue: overdue", "/desk/?overdue=on"),
        ("queue: by first-reply due time", "/desk/?sort=due&status=all"),
        ("queue: one status by due time", "/desk/?status=new&sort=due"),
        ("queue: by priority", "/desk/?sort=priority&status=all"),
        ("queue: by SLA due", "/desk/?sort=sla"),
        ("queue: SLA breached", "/desk/?sla=breached&sort=sla"),
        ("queue: by transaction time", "/desk/?sort=transaction&status=all"),
        ("queue: a rare category", f"/desk/?status=all&category={rare_category}"),
        ("queue: a rare response code", f"/desk/?status=all&code={rare_code}"),
        ("queue: terminal", f"/desk/?status=all&tid={sample.tid}"),
        ("queue: search by RRN", f"/desk/?status=all&q={sample.rrn}"),
        ("agent's ticket page", f"/desk/tickets/{ticket.number}/"),
    ]
    work = [(label, page(agent, url)) for label, url in desk]
    work += [
        ("merchant's list", page(merchant_user, "/tickets/")),
        ("merchant's list, one status", page(merchant_user, "/tickets/?status=resolved")),
        ("merchant's ticket page", page(merchant_user, f"/tickets/{ticket.number}/")),
        (
            "duplicate check (new ticket form)",
            lambda: ticket_find_duplicates(
                merchant=merchant,
                tid=sample.tid,
                rrn=sample.rrn,
                card_masked="1234",
                amount="88.50",
                transaction_time=timezone.now(),
            ),
        ),
        (
            "incident detection",
            lambda: detection.detect_incidents(since=timezone.now() - timedelta(hours=6)),
        ),
        (
            "terminal health",
            lambda: terminal_health.flagged_terminals([(sample.merchant_id, sample.tid)]),
        ),
        ("first-reply deadline job", lambda: jobs.sla_warnings()),
        ("auto-close job", lambda: jobs.auto_close(limit=5)),
        ("deleting a user (SET NULL)", User.objects.filter(pk=agent.pk).delete),
        ("deleting a terminal (SET NULL)", Terminal.objects.filter(tid=sample.tid).delete),
        ("deleting a merchant (PROTECT check)", protected(Merchant.objects.filter(pk=merchant.pk))),
    ]  # fmt: skip
    return work


def protected(queryset):
    """Deleting rows that tickets protect: Django looks for the tickets first, then refuses."""
    from django.db.models import ProtectedError

    def run():
        with contextlib.suppress(ProtectedError):
            queryset.delete()

    return run


def report(ctx=None) -> dict:
    """{"indexes": {name: first query label or None}, "queries": {label: [indexes]}}"""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    used_by: dict[str, str] = {}
    per_query: dict[str, list] = {}
    with connection.cursor() as cursor:
        indexes = _ticket_indexes(cursor)
    for label, run in _workload(ctx):
        with transaction.atomic():
            with CaptureQueriesContext(connection) as captured:
                run()
            statements = [
                q["sql"]
                for q in captured.captured_queries
                if re.search(rf'\b(FROM|UPDATE|INTO)\s+"{TABLE}"', q["sql"])
                and not q["sql"].startswith(("SAVEPOINT", "RELEASE", "INSERT"))
            ]
            found = set()
            with connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
                    plan = cursor.fetchone()[0]
                    plan = json.loads(plan) if isinstance(plan, str) else plan
                    found |= _plan_indexes(plan)
            transaction.set_rollback(True)  # the jobs and deletions leave nothing behind
        found &= set(indexes)
        per_query[label] = sorted(found)
        for name in sorted(found):
            used_by.setdefault(name, label)
    # The insert itself, and the unique number, use the primary key and the number's index.
    return {
        "indexes": {name: used_by.get(name) for name in indexes},
        "queries": per_query,
        "count": len(indexes),
    }
