"""Ninety believable days behind `make run` (DEBUG only, called by `seed_demo`).

Built once, deterministically (one seeded `random.Random`), ending at the moment it is built:
40 merchants of four acquirers with 1–4 real terminal models each, about 2,000 declines whose
response codes follow what reaches a desk (51 and 55 common, 05/96/A0 regular, the rest rare)
on weekday and meal-time peaks with a holiday dip, their timelines (assignment, replies, internal
notes, status changes, first-response and resolution times), escalation batches in every state
across the banks (answered and closed ones with the bank's references), three past incidents
(one during an announced maintenance window) and one current incident tied to its tickets, a
terminal flagged for declining many different cards within the hour, tens of thousands of wizard
runs with "solved?" answers, and article votes with comments.

Everything is written with bulk inserts (no services: no mail, no tasks, no audit rows for
events that never happened) and the insight rollups are rebuilt set-based afterwards. Free text
still goes through the scrubbed fields. What it created is recorded in `DemoHistory`: a second
run adds nothing; `reset()` removes exactly those rows (seed_demo --reset), then build again.

Not here yet (other issues): merged/linked tickets, imported bank reply files, content-gap
logging. Add them as further steps of `build` when those models land.
"""

import hashlib
import random
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from diagnosis.accounts.demo import MERCHANTS as DEMO_MERCHANTS
from diagnosis.core.cards import scrub_text
from diagnosis.core.roles import SUPPORT_AGENTS
from diagnosis.demo import texts
from diagnosis.insight import alerts, rollups
from diagnosis.models import (
    Attachment,
    Bank,
    DemoHistory,
    EscalationBatch,
    EscalationItem,
    Incident,
    Merchant,
    Terminal,
    Ticket,
    TicketCounter,
    TicketEvent,
    User,
    WizardRun,
)
from diagnosis.tickets import sla
from knowledge.models import Announcement, Article, ArticleVote, ResponseCode

SEED = 20261205
DAYS = 90
TICKETS = 2000
WIZARD_RUNS = 24_000
VOTES = 1_200
ACQUIRERS = ["ums", "lakala", "icbc", "ccb"]
MID_PREFIX = "89899"  # 15-digit MIDs 89899xxxxxxxxxx are the history's merchants
TID_PREFIX = "66"  # 8-character TIDs 66xxxxxx are their terminals
VOTER_PREFIX = "demo-"  # ArticleVote.voter_key of the history's votes
BATCH = 1000

Status = Ticket.Status
Kind = TicketEvent.Kind


def exists() -> bool:
    return DemoHistory.objects.exists()


def build(*, now=None, stdout=None) -> dict | None:
    """Build the history once; None when it exists already. Returns counts and seconds."""
    if exists():
        return None
    started = time.perf_counter()
    with transaction.atomic():
        counts = _Builder(now or timezone.now()).run()
    rollups.rebuild()
    alerts.forget()
    seconds = round(time.perf_counter() - started, 1)
    DemoHistory.objects.filter(seed=SEED).update(seconds=seconds)
    counts["seconds"] = seconds
    return counts


@transaction.atomic
def reset() -> bool:
    """Remove what `build` created (and nothing else). False when there was no history.

    Tickets, their rows and the wizard runs go with plain DELETE statements (`_raw_delete`):
    the per-row rollup signals would take minutes, and the rollups are rebuilt afterwards."""
    marker = DemoHistory.objects.order_by("pk").first()
    if marker is None:
        return False
    rows = marker.rows
    db = DemoHistory.objects.db
    first, last = rows.get("tickets", [0, -1])
    tickets = Ticket.objects.filter(
        Q(pk__gte=first, pk__lte=last) | Q(merchant__in=rows.get("merchants", []))
    )
    EscalationBatch.objects.filter(pk__in=rows.get("batches", [])).delete()
    Incident.objects.filter(pk__in=rows.get("incidents", [])).delete()
    Announcement.objects.filter(pk__in=rows.get("announcements", [])).delete()
    Attachment.objects.filter(ticket__in=tickets).delete()
    Incident.tickets.through.objects.filter(ticket__in=tickets)._raw_delete(db)
    EscalationItem.objects.filter(ticket__in=tickets)._raw_delete(db)
    TicketEvent.objects.filter(ticket__in=tickets)._raw_delete(db)
    tickets._raw_delete(db)
    first, last = rows.get("wizard_runs", [0, -1])
    WizardRun.objects.filter(pk__gte=first, pk__lte=last)._raw_delete(db)
    votes = ArticleVote.objects.filter(voter_key__startswith=VOTER_PREFIX)
    for row in votes.values("article").annotate(
        yes=Count("pk", filter=Q(helpful=True)), no=Count("pk", filter=Q(helpful=False))
    ):
        Article.objects.filter(pk=row["article"]).update(
            helpful_yes=F("helpful_yes") - row["yes"], helpful_no=F("helpful_no") - row["no"]
        )
    votes._raw_delete(db)
    User.objects.filter(pk__in=rows.get("users", [])).delete()
    Merchant.objects.filter(pk__in=rows.get("merchants", [])).delete()
    DemoHistory.objects.all().delete()
    rollups.rebuild()
    alerts.forget()
    return True


def insert_rows(model, fields: list[str], rows: list[tuple]) -> None:
    """Plain INSERTs with executemany: tens of thousands of rows without building model
    instances. Datetimes are adapted as the backend stores them; callers scrub free text."""
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(model._meta.get_field(f).column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608 - our names
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 5000):
            cursor.executemany(sql, rows[start : start + 5000])


def is_holiday(day: date) -> bool:
    """National Day week, New Year's Day, Labour Day and the Spring Festival: shops are open but
    their staff and the agents are not, so fewer declines are recorded."""
    if (day.month, day.day) in {(1, 1), (5, 1), (5, 2), (5, 3)}:
        return True
    if day.month == 10 and day.day <= 7:
        return True
    spring = {2026: date(2026, 2, 17), 2027: date(2027, 2, 6), 2028: date(2028, 1, 26)}
    first = spring.get(day.year)
    return first is not None and first - timedelta(days=1) <= day <= first + timedelta(days=5)


# Local hour → weight: opening, lunch and dinner peaks, quiet nights.
HOURS = [1, 0.5, 0.3, 0.2, 0.2, 0.4, 1, 3, 6, 8, 10, 13, 14, 10, 8, 7, 8, 11, 13, 12, 9, 6, 4, 2]


class _Event(NamedTuple):
    ticket: Ticket
    kind: str
    author: User | None
    internal: bool
    body: str
    old: str
    new: str
    created_at: datetime


class _Builder:
    def __init__(self, now):
        self.now = now
        self.rng = random.Random(SEED)
        self.zone = timezone.get_current_timezone()
        self.rows = {}
        self.events = []  # _Event tuples, written with plain INSERTs once the tickets have pks

    # --- helpers -------------------------------------------------------------------------------

    def pick(self, items):
        return self.rng.choice(items)

    def masked_card(self):
        roll = self.rng.random()
        last4 = f"{self.rng.randrange(10000):04d}"
        if roll < 0.7:
            bin6 = self.pick(["622848", "621700", "622202", "625807", "436742", "622588", "621483"])
            return f"{bin6}******{last4}", last4
        if roll < 0.9:
            return last4, last4
        return "", last4

    def text(self, template, card="", last4=""):
        return template.format(card=card or f"尾号{last4}", last4=last4)

    def event(self, ticket, kind, at, author=None, body="", internal=False, old="", new=""):
        self.events.append(
            _Event(ticket, str(kind), author, internal, body, str(old), str(new), min(at, self.now))
        )

    def status_event(self, ticket, at, old, new, author):
        self.event(ticket, Kind.STATUS, at, author=author, old=old, new=new)

    # --- the steps ---------------------------------------------------------------------------

    def run(self) -> dict:
        self.banks = {b.code: b for b in Bank.objects.filter(code__in=ACQUIRERS)}
        self.codes = dict(
            ResponseCode.objects.filter(code__in=list(texts.CODE_WEIGHTS)).values_list(
                "code", "category_id"
            )
        )
        self.category_keys = dict(
            ResponseCode.objects.filter(code__in=list(self.codes)).values_list(
                "code", "category__key"
            )
        )
        self.agents()
        self.merchants()
        self.tickets()
        self.batches()
        self.incidents()
        self.flagged_terminal()
        self.save_tickets()
        wizard = self.wizard_runs()
        votes = self.votes()
        DemoHistory.objects.create(seed=SEED, built_at=self.now, rows=self.rows)
        return {
            "merchants": len(self.new_merchants),
            "terminals": self.terminal_count,
            "tickets": len(self.all_tickets),
            "events": len(self.events),
            "batches": len(self.batch_list),
            "incidents": len(self.rows["incidents"]),
            "wizard_runs": wizard,
            "votes": votes,
        }

    def agents(self):
        group = Group.objects.get(name=SUPPORT_AGENTS)
        created = []
        for username, first, last in texts.AGENTS:
            if User.objects.filter(username=username).exists():
                continue
            user = User(username=username, first_name=first, last_name=last)
            user.set_unusable_password()
            created.append(user)
        User.objects.bulk_create(created)
        for user in User.objects.filter(pk__in=[u.pk for u in created]):
            user.groups.add(group)
        self.rows["users"] = [u.pk for u in created]
        names = ["agent"] + [name for name, *_ in texts.AGENTS]
        self.agent_users = list(User.objects.filter(username__in=names).order_by("pk"))

    def merchants(self):
        rng = self.rng
        models, weights = zip(*texts.TERMINAL_MODELS, strict=True)
        merchants, terminals, tid = [], [], 0
        acquirer_plan = ["ums"] * 14 + ["lakala"] * 10 + ["icbc"] * 9 + ["ccb"] * 7
        for i, name in enumerate(texts.MERCHANT_NAMES):
            merchants.append(
                Merchant(
                    name=name,
                    mid=f"{MID_PREFIX}{rng.randrange(10**5):05d}{i:05d}",
                    acquirer=self.banks[acquirer_plan[i]],
                )
            )
        Merchant.objects.bulk_create(merchants)
        self.new_merchants = list(
            Merchant.objects.filter(mid__in=[m.mid for m in merchants]).order_by("pk")
        )
        self.rows["merchants"] = [m.pk for m in self.new_merchants]
        shop_users = []
        for merchant in self.new_merchants:
            for n in range(rng.choices([1, 2, 3, 4], weights=[4, 4, 2, 1])[0]):
                tid += 1
                terminals.append(
                    Terminal(
                        tid=f"{TID_PREFIX}{tid:06d}",
                        merchant=merchant,
                        model=rng.choices(models, weights=weights)[0],
                        location=texts.LOCATIONS[n],
                    )
                )
            user = User(username=f"shop-{merchant.mid[-6:]}", merchant=merchant)
            user.set_unusable_password()
            shop_users.append(user)
        Terminal.objects.bulk_create(terminals)
        User.objects.bulk_create(shop_users)
        self.rows["users"] += list(
            User.objects.filter(username__in=[u.username for u in shop_users]).values_list(
                "pk", flat=True
            )
        )
        self.terminal_count = len(terminals)
        # The curated demo merchants (merchant-a, merchant-b…) get a history too.
        demo_mids = [mid for mid, *_ in DEMO_MERCHANTS]
        shops = self.new_merchants + list(Merchant.objects.filter(mid__in=demo_mids))
        terminals_of = {}
        for terminal in Terminal.objects.filter(merchant__in=shops).order_by("pk"):
            terminals_of.setdefault(terminal.merchant_id, []).append(terminal)
        user_of = {}
        for user in User.objects.filter(merchant__in=shops).order_by("pk"):
            user_of.setdefault(user.merchant_id, user)
        self.shops = [
            (m, terminals_of.get(m.pk, []), user_of.get(m.pk))
            for m in shops
            if m.acquirer_id and terminals_of.get(m.pk)
        ]
        # Busy shops record more declines (the curated ones a good handful each).
        self.shop_weights = [
            (4 if m.mid in demo_mids else rng.choice([1, 1, 2, 2, 3, 5])) for m, *_ in self.shops
        ]

    # --- tickets -------------------------------------------------------------------------------

    def day_counts(self):
        today = timezone.localtime(self.now, self.zone).date()
        days = [today - timedelta(days=d) for d in range(DAYS - 1, -1, -1)]
        weights = []
        for i, day in enumerate(days):
            w = {5: 0.75, 6: 0.6}.get(day.weekday(), 1.0) * (0.9 + 0.2 * i / DAYS)
            if is_holiday(day):
                w *= 0.35
            weights.append(w * self.rng.uniform(0.85, 1.15))
        total = sum(weights)
        return [(day, round(TICKETS * w / total)) for day, w in zip(days, weights, strict=True)]

    def moment(self, day):
        hour = self.rng.choices(range(24), weights=HOURS)[0]
        local = datetime(
            day.year, day.month, day.day, hour, self.rng.randrange(60), tzinfo=self.zone
        )
        return local + timedelta(seconds=self.rng.randrange(60))

    def new_ticket(self, created, *, shop=None, code=None, terminal=None, card=None):
        rng = self.rng
        merchant, terminals, user = shop or rng.choices(self.shops, weights=self.shop_weights)[0]
        terminal = terminal or rng.choice(terminals)
        codes = [c for c in texts.CODE_WEIGHTS if c in self.codes]
        code = code or rng.choices(codes, weights=[texts.CODE_WEIGHTS[c] for c in codes])[0]
        masked, last4 = card or self.masked_card()
        template = rng.choice(texts.DESCRIPTIONS.get(code) or texts.DESCRIPTIONS["05"])
        amount = Decimal(min(50_000, round(rng.lognormvariate(4.6, 1.0), 2))).quantize(
            Decimal("0.01")
        )
        ticket = Ticket(
            merchant=merchant,
            acquirer_id=merchant.acquirer_id,
            created_by=user,
            terminal=terminal,
            tid=terminal.tid,
            transaction_time=created - timedelta(minutes=rng.randrange(2, 40)),
            amount=max(amount, Decimal("1.00")),
            card_masked=masked,
            card_type=rng.choices(["debit", "credit", "unknown"], weights=[6, 3, 1])[0],
            response_code=code,
            category_id=self.codes.get(code),
            rrn=f"{rng.randrange(10**12):012d}" if rng.random() < 0.8 else "",
            trace_number=f"{rng.randrange(10**6):06d}" if rng.random() < 0.7 else "",
            batch_number=f"{rng.randrange(1, 999):06d}" if rng.random() < 0.4 else "",
            description=self.text(template, masked, last4),
            status=Status.NEW,
            priority=rng.choices(["low", "normal", "high", "urgent"], weights=[6, 78, 12, 4])[0],
            created_at=created,
            first_response_due=sla.first_response_due(created),
        )
        ticket.batch = None
        return ticket

    def tickets(self):
        self.all_tickets = []
        for day, count in self.day_counts():
            for _ in range(count):
                created = self.moment(day)
                if created < self.now - timedelta(minutes=60):
                    self.all_tickets.append(self.new_ticket(created))

    def story(self, t):
        """Status, times and timeline of one ticket, by its age (batch tickets get theirs in
        `batches`)."""
        rng, now = self.rng, self.now
        age = now - t.created_at
        if age < timedelta(hours=5):
            target = rng.choices([Status.NEW, Status.IN_PROGRESS], weights=[6, 4])[0]
        elif age < timedelta(days=3):
            target = rng.choices(
                [Status.NEW, Status.IN_PROGRESS, Status.WAITING_MERCHANT, Status.RESOLVED],
                weights=[1, 4, 3, 4],
            )[0]
        elif age < timedelta(days=10):
            target = rng.choices(
                [Status.IN_PROGRESS, Status.WAITING_MERCHANT, Status.RESOLVED, Status.CLOSED],
                weights=[1, 1, 5, 5],
            )[0]
        else:
            target = rng.choices([Status.RESOLVED, Status.CLOSED], weights=[1, 30])[0]
        self.timeline(t, target)

    def first_reply_at(self, t):
        """Mostly within the 4 working hours, sometimes late (the SLA has something to show)."""
        hours = min(30.0, self.rng.lognormvariate(0.2, 0.9))
        return sla.add_working_hours(t.created_at, hours)

    def timeline(self, t, target, *, batch=None):
        rng, now = self.rng, self.now
        merchant_user = t.created_by
        self.event(t, Kind.CREATED, t.created_at, author=merchant_user, new=Status.NEW)
        if target == Status.NEW:
            return
        agent = rng.choice(self.agent_users)
        t.assignee = agent
        limit = batch.created_at if batch is not None else now
        reply_at = self.first_reply_at(t)
        if reply_at >= limit - timedelta(minutes=5):
            reply_at = t.created_at + (limit - t.created_at) * rng.uniform(0.2, 0.6)
        picked_at = t.created_at + (reply_at - t.created_at) * rng.uniform(0.1, 0.6)
        self.event(t, Kind.ASSIGN, picked_at, author=agent, internal=True, new=agent.username)
        self.status_event(t, picked_at, Status.NEW, Status.IN_PROGRESS, agent)
        status = Status.IN_PROGRESS
        if target == Status.IN_PROGRESS and batch is None and rng.random() < 0.25:
            return  # picked up, no reply yet (may be overdue)
        body = rng.choice(texts.REPLIES.get(t.response_code) or texts.GENERIC_REPLIES)
        self.event(t, Kind.REPLY, reply_at, author=agent, body=body)
        t.first_responded_at = min(reply_at, now)
        if rng.random() < 0.3:
            note_at = reply_at + timedelta(minutes=rng.randrange(5, 120))
            self.event(
                t, Kind.NOTE, note_at, author=agent, internal=True, body=rng.choice(texts.NOTES)
            )
        cursor = reply_at
        if batch is None and (
            target == Status.WAITING_MERCHANT
            or (target in (Status.RESOLVED, Status.CLOSED) and rng.random() < 0.3)
        ):
            cursor += timedelta(minutes=rng.randrange(3, 90))
            self.event(t, Kind.REPLY, cursor, author=agent, body=rng.choice(texts.WAITING_REPLIES))
            self.status_event(t, cursor, status, Status.WAITING_MERCHANT, agent)
            status = Status.WAITING_MERCHANT
            if target == Status.WAITING_MERCHANT:
                t.status = status
                return
            cursor += timedelta(hours=rng.uniform(0.5, 20))
            if cursor < now and merchant_user is not None:
                self.event(
                    t,
                    Kind.REPLY,
                    cursor,
                    author=merchant_user,
                    body=rng.choice(texts.MERCHANT_REPLIES),
                )
            self.status_event(t, cursor, status, Status.IN_PROGRESS, merchant_user)
            status = Status.IN_PROGRESS
        if batch is not None:
            t.status = status
            return  # batches() continues the story
        if target == Status.IN_PROGRESS:
            t.status = status
            return
        self.resolve(t, target, cursor, agent, status)

    def resolve(self, t, target, after, agent, status):
        rng, now = self.rng, self.now
        resolved = after + timedelta(hours=rng.lognormvariate(1.5, 1.1))
        if resolved >= now:
            resolved = after + (now - after) * rng.uniform(0.3, 0.9)
        self.event(t, Kind.REPLY, resolved, author=agent, body=rng.choice(texts.RESOLVE_REPLIES))
        self.status_event(t, resolved, status, Status.RESOLVED, agent)
        t.resolved_at = resolved
        t.status = Status.RESOLVED
        # The merchant closes it, or the auto-close job does AUTO_CLOSE_DAYS after the
        # resolution (as `make run`'s scheduler would have: nothing is left for it to catch up).
        closed = resolved + timedelta(days=settings.AUTO_CLOSE_DAYS)
        closer = None
        if target == Status.CLOSED and rng.random() < 0.3:
            closed = resolved + timedelta(hours=rng.uniform(1, 48))
            closer = t.created_by
        if closed < now:
            self.status_event(t, closed, Status.RESOLVED, Status.CLOSED, closer)
            t.closed_at = closed
            t.status = Status.CLOSED

    # --- escalation batches --------------------------------------------------------------------

    def batches(self):
        """Batches in every state across the acquirers: closed (weeks ago), answered, sent
        (waiting for the bank) and drafts (today)."""
        rng, now = self.rng, self.now
        plan = []  # (state, days ago the batch was sent/created, acquirer)
        for i, days_ago in enumerate([80, 66, 52, 41, 30, 21, 15]):
            plan.append(("closed", days_ago, ACQUIRERS[i % 4]))
        for i, days_ago in enumerate([9, 6, 4]):
            plan.append(("answered", days_ago, ACQUIRERS[(i + 1) % 4]))
        for i, days_ago in enumerate([2.5, 1.2, 0.4]):
            plan.append(("sent", days_ago, ACQUIRERS[(i + 2) % 4]))
        plan += [("draft", 0.1, "ums"), ("draft", 0.05, "lakala")]
        taken = set()
        self.batch_list = []
        for state, days_ago, code in plan:
            bank = self.banks[code]
            moment = now - timedelta(days=days_ago)
            candidates = [
                t
                for t in self.all_tickets
                if id(t) not in taken
                and t.acquirer_id == bank.pk
                and t.response_code in texts.ESCALATE_CODES
                and moment - timedelta(days=4) <= t.created_at <= moment - timedelta(hours=3)
            ]
            candidates.sort(key=lambda t: t.created_at)
            chosen = candidates[-rng.randrange(3, 8) :]
            if not chosen:
                continue
            taken.update(id(t) for t in chosen)
            agent = rng.choice(self.agent_users)
            batch = EscalationBatch(
                number=f"tmp-{len(self.batch_list)}",
                acquirer=bank,
                status=state,
                note=rng.choice(texts.BATCH_NOTES),
                created_by=agent,
                created_at=moment - timedelta(hours=rng.uniform(0.5, 3)),
            )
            if state != "draft":
                batch.sent_at = moment
            if state in ("answered", "closed"):
                batch.answered_at = min(
                    now - timedelta(hours=2), moment + timedelta(days=rng.uniform(1, 3))
                )
            if state == "closed":
                batch.closed_at = batch.answered_at + timedelta(days=rng.uniform(0.5, 2))
            batch.chosen = chosen
            for t in chosen:
                t.batch = batch
            self.batch_list.append(batch)
        EscalationBatch.objects.bulk_create(self.batch_list)
        for batch in self.batch_list:
            year = timezone.localtime(batch.created_at, self.zone).year
            batch.number = f"ESC-{year}-{batch.pk:06d}"
        EscalationBatch.objects.bulk_update(self.batch_list, ["number"])
        self.rows["batches"] = [b.pk for b in self.batch_list]
        # The other tickets' stories first, then the batch tickets'.
        for t in self.all_tickets:
            if t.batch is None:
                self.story(t)
        items = []
        for batch in self.batch_list:
            bank_name = batch.acquirer.name_zh
            for t in batch.chosen:
                reference = ""
                self.timeline(t, Status.IN_PROGRESS, batch=batch)
                if batch.status == "draft":
                    items.append(EscalationItem(batch=batch, ticket=t))
                    continue
                agent = batch.created_by
                self.status_event(t, batch.sent_at, t.status, Status.ESCALATED, agent)
                self.event(
                    t,
                    Kind.ESCALATED,
                    batch.sent_at,
                    author=agent,
                    internal=True,
                    new=batch.number,
                    body=f"已随批次 {batch.number} 提交给 {bank_name}。",
                )
                t.status = Status.ESCALATED
                if batch.status != "sent" or rng.random() < 0.4:
                    reference = f"{batch.acquirer.code.upper()}{rng.randrange(10**8):08d}"
                if batch.answered_at is not None:
                    answer = rng.choice(texts.BANK_ANSWERS).format(ref=reference)
                    self.event(
                        t, Kind.NOTE, batch.answered_at, author=agent, internal=True, body=answer
                    )
                    if batch.status == "closed" or rng.random() < 0.5:
                        self.resolve(t, Status.CLOSED, batch.answered_at, agent, Status.ESCALATED)
                items.append(EscalationItem(batch=batch, ticket=t, bank_reference=reference))
        self.items = items

    # --- incidents -----------------------------------------------------------------------------

    def burst(self, bank, start, minutes, count, codes):
        shops = [s for s in self.shops if s[0].acquirer_id == bank.pk]
        shops = self.rng.sample(shops, min(len(shops), max(4, count // 2)))
        tickets = []
        for i in range(count):
            shop = shops[i % len(shops)]
            created = start + timedelta(minutes=self.rng.uniform(1, minutes))
            t = self.new_ticket(created, shop=shop, code=self.rng.choice(codes))
            t.description = self.rng.choice(texts.INCIDENT_DESCRIPTIONS)
            t.priority = "high"
            tickets.append(t)
        tickets.sort(key=lambda t: t.created_at)
        return tickets

    def incidents(self):
        rng, now = self.rng, self.now
        today = timezone.localtime(now, self.zone).date()
        self.incident_plan = []
        self.rows["incidents"] = []
        self.rows["announcements"] = []
        past = [
            ("lakala", 62, 14, 75, ["96", "68"]),
            ("icbc", 34, 21, 100, ["91", "96"]),  # during the announced maintenance window
            ("ums", 12, 10, 35, ["96"]),
        ]
        for code, days_ago, hour, minutes, codes in past:
            bank = self.banks[code]
            day = today - timedelta(days=days_ago)
            start = datetime(day.year, day.month, day.day, hour, 5, tzinfo=self.zone)
            tickets = self.burst(bank, start, minutes, rng.randrange(8, 14), codes)
            for t in tickets:
                self.timeline(t, Status.CLOSED)
            self.all_tickets += tickets
            incident = Incident(
                acquirer=bank,
                status=Incident.Status.RESOLVED,
                started_at=tickets[0].created_at,
                detected_at=tickets[2].created_at,
                last_ticket_at=tickets[-1].created_at,
                merchant_count=len({t.merchant_id for t in tickets}),
                changed_by=rng.choice(self.agent_users),
                changed_at=tickets[-1].created_at + timedelta(minutes=20),
                ended_at=start + timedelta(minutes=minutes + 15),
            )
            self.incident_plan.append((incident, tickets))
            if code == "icbc":
                announcement = Announcement.objects.create(
                    bank=bank,
                    severity=Announcement.Severity.WARNING,
                    starts_at=start - timedelta(minutes=5),
                    ends_at=start + timedelta(minutes=minutes + 10),
                    **texts.MAINTENANCE,
                )
                Announcement.objects.filter(pk=announcement.pk).update(
                    created_at=start - timedelta(days=3)
                )
                self.rows["announcements"].append(announcement.pk)
        # The current one: China UMS merchants failing for the last 25 minutes (unless an
        # incident of that bank is active already: at most one per acquirer).
        bank = self.banks["ums"]
        if not Incident.objects.active().filter(acquirer=bank).exists():
            start = now - timedelta(minutes=26)
            tickets = self.burst(bank, start, 24, 7, ["96", "91"])
            for t in tickets:
                self.event(t, Kind.CREATED, t.created_at, author=t.created_by, new=Status.NEW)
            self.all_tickets += tickets
            incident = Incident(
                acquirer=bank,
                status=Incident.Status.OPEN,
                started_at=tickets[0].created_at,
                detected_at=tickets[2].created_at,
                last_ticket_at=tickets[-1].created_at,
                merchant_count=len({t.merchant_id for t in tickets}),
            )
            self.incident_plan.append((incident, tickets))

    def flagged_terminal(self):
        """Six different cards declined on one terminal within the last hour: the terminal
        health warning shows on its tickets (for as long as they are within the hour)."""
        shop = next(s for s in self.shops if s[0].acquirer_id == self.banks["lakala"].pk)
        terminal = shop[1][0]
        for i in range(6):
            created = self.now - timedelta(minutes=50 - i * 8)
            t = self.new_ticket(created, shop=shop, code="A0", terminal=terminal)
            t.transaction_time = created - timedelta(minutes=1)
            t.description = self.rng.choice(texts.FLAGGED_DESCRIPTIONS)
            if not t.card_masked:
                t.card_masked = f"{self.rng.randrange(10000):04d}"
            self.event(t, Kind.CREATED, t.created_at, author=t.created_by, new=Status.NEW)
            self.all_tickets.append(t)

    # --- writing -------------------------------------------------------------------------------

    def save_tickets(self):
        self.all_tickets.sort(key=lambda t: t.created_at)
        numbers = {}
        for t in self.all_tickets:
            year = timezone.localtime(t.created_at, self.zone).year
            numbers.setdefault(year, []).append(t)
        for year, tickets in numbers.items():
            counter, _ = TicketCounter.objects.get_or_create(year=year)
            for n, t in enumerate(tickets, start=counter.last + 1):
                t.number = f"DD-{year}-{n:06d}"
            TicketCounter.objects.filter(year=year).update(last=counter.last + len(tickets))
        Ticket.objects.bulk_create(self.all_tickets, batch_size=BATCH)
        pks = [t.pk for t in self.all_tickets]
        self.rows["tickets"] = [min(pks), max(pks)]
        dt = connection.ops.adapt_datetimefield_value
        clean = {}
        rows = []
        for e in sorted(self.events, key=lambda e: e.created_at):
            if e.body not in clean:
                clean[e.body] = scrub_text(e.body)
            rows.append(
                (
                    e.ticket.pk,
                    e.kind,
                    e.author.pk if e.author else None,
                    e.internal,
                    clean[e.body],
                    e.old,
                    e.new,
                    dt(e.created_at),
                )
            )
        fields = ["ticket", "kind", "author", "is_internal", "body", "old_value", "new_value"]
        insert_rows(TicketEvent, [*fields, "created_at"], rows)
        # updated_at is auto_now: set it to the last thing that happened to each ticket.
        ticket_table = connection.ops.quote_name(Ticket._meta.db_table)
        event_table = connection.ops.quote_name(TicketEvent._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {ticket_table} SET updated_at = COALESCE((SELECT MAX(e.created_at) "  # noqa: S608
                f"FROM {event_table} e WHERE e.ticket_id = {ticket_table}.id), created_at) "
                "WHERE id BETWEEN %s AND %s",
                self.rows["tickets"],
            )
        for item in self.items:
            item.ticket_id = item.ticket.pk
        EscalationItem.objects.bulk_create(self.items, batch_size=BATCH)
        links = []
        for incident, tickets in self.incident_plan:
            incident.save()
            self.rows["incidents"].append(incident.pk)
            links += [
                Incident.tickets.through(incident_id=incident.pk, ticket_id=t.pk) for t in tickets
            ]
        Incident.tickets.through.objects.bulk_create(links, batch_size=BATCH)

    def wizard_runs(self) -> int:
        from diagnosis.wizard.bench import random_walk
        from diagnosis.wizard.engine import walk
        from diagnosis.wizard.snapshot import live_tree

        tree = live_tree()
        if tree is None:
            self.rows["wizard_runs"] = [0, -1]
            return 0
        rng = self.rng
        pool = []
        for _ in range(300):
            finished = walk(tree, random_walk(tree, rng))
            if finished is not None and finished.finished:
                pool.append((finished.path, finished.code, finished.outcome["id"]))
        outcomes = sorted({outcome for *_, outcome in pool})
        solved_rate = {outcome: rng.uniform(0.45, 0.85) for outcome in outcomes}
        today = timezone.localtime(self.now, self.zone).date()
        runs = []
        per_day = WIZARD_RUNS / DAYS
        for d in range(DAYS):
            day = today - timedelta(days=d)
            count = per_day * (0.8 if day.weekday() >= 5 else 1.05)
            count *= 0.5 if is_holiday(day) else rng.uniform(0.9, 1.1)
            for _ in range(round(count)):
                created = self.moment(day)
                if created > self.now:
                    continue
                path, code, outcome = rng.choice(pool)
                answer = rng.random()
                solved = None if answer < 0.22 else rng.random() < solved_rate[outcome]
                finished_at = None
                if solved is not None:
                    finished_at = created + timedelta(seconds=rng.randrange(20, 600))
                # version, path, code, outcome, bank_lead, created_at, solved, finished_at
                runs.append((tree.pk, path, code, outcome, False, created, solved, finished_at))
        runs.sort(key=lambda r: r[5])
        before = WizardRun.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        dt = connection.ops.adapt_datetimefield_value
        fields = ["version", "path", "code", "outcome", "bank_lead", "solved", "created_at"]
        insert_rows(
            WizardRun,
            [*fields, "finished_at"],
            [(*r[:5], r[6], dt(r[5]), dt(r[7]) if r[7] else None) for r in runs],
        )
        last = WizardRun.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        self.rows["wizard_runs"] = [before + 1, last]
        return len(runs)

    def votes(self) -> int:
        rng = self.rng
        articles = list(Article.objects.filter(status="published").order_by("pk"))
        if not articles:
            return 0
        popular = {
            "insufficient-balance": 12,
            "wrong-pin": 8,
            "do-not-honor": 6,
            "mac-key-error": 5,
        }
        weights = [popular.get(a.slug, rng.choice([1, 1, 2, 3])) for a in articles]
        votes, tally = [], {}
        start = self.now - timedelta(days=DAYS)
        for i in range(VOTES):
            article = rng.choices(articles, weights=weights)[0]
            helpful = rng.random() < 0.78
            comment = ""
            if rng.random() < 0.12:
                comment = rng.choice(texts.VOTE_COMMENTS_YES if helpful else texts.VOTE_COMMENTS_NO)
            key = hashlib.sha256(f"demo-history-{SEED}-{i}".encode()).hexdigest()
            votes.append(
                ArticleVote(
                    article=article,
                    voter_key=f"{VOTER_PREFIX}{key[: 64 - len(VOTER_PREFIX)]}",
                    helpful=helpful,
                    comment=comment,
                    created_at=start + timedelta(seconds=rng.randrange(DAYS * 86400)),
                )
            )
            yes, no = tally.get(article.pk, (0, 0))
            tally[article.pk] = (yes + helpful, no + (not helpful))
        ArticleVote.objects.bulk_create(votes, batch_size=BATCH)
        for pk, (yes, no) in tally.items():
            Article.objects.filter(pk=pk).update(
                helpful_yes=F("helpful_yes") + yes, helpful_no=F("helpful_no") + no
            )
        return len(votes)
