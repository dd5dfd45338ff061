"""Anonymous run records: written when an outcome is shown, updated by "did this solve it?".

The run id travels signed (django.core.signing) so a vote cannot be cast on someone else's run
by guessing ids. Nothing personal is stored: no user, no IP, no card data.
"""

from django.core import signing
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from diagnosis.insight import rollups
from diagnosis.models import WizardRun
from knowledge.gaps import services as gaps

SALT = "diagnosis.wizard.run"
TOKEN_MAX_AGE = 60 * 60 * 24 * 7  # a vote is accepted for a week


def run_token(run: WizardRun) -> str:
    return signing.dumps(run.pk, salt=SALT, compress=False)


def run_from_token(token: str | None) -> WizardRun | None:
    if not token or len(token) > 200:
        return None
    try:
        pk = signing.loads(token, salt=SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(pk, int):
        return None
    return WizardRun.objects.filter(pk=pk).select_related("version").first()


@transaction.atomic
def run_record(*, version_pk: int, path: str, code: str, outcome: str, bank_lead: bool):
    run = WizardRun.objects.create(
        version_id=version_pk,
        path=path[:400],
        code=code[:2],
        outcome=outcome[:40],
        bank_lead=bank_lead,
    )
    rollups.wizard_run_added(run)  # the dashboard's daily counts
    gaps.wizard_run_added(run)  # the content-gap page's counts per path
    return run


@transaction.atomic
def run_vote(*, run: WizardRun, solved: bool) -> WizardRun:
    """Record (or change) the answer to "did this solve it?"."""
    # Locked, so two votes at once count once each in the dashboard's rollup.
    old = WizardRun.objects.select_for_update().values_list("solved", flat=True).get(pk=run.pk)
    run.solved = solved
    run.finished_at = timezone.now()
    run.save(update_fields=["solved", "finished_at"])
    rollups.wizard_vote_changed(run, old, solved)
    gaps.wizard_vote_changed(run, old, solved)
    return run


def outcome_stats(*, since=None, version_number: int | None = None) -> list[dict]:
    """Per outcome: reached, solved yes, solved no, no answer, and the solve rate (yes / voted)."""
    runs = WizardRun.objects.all()
    if since is not None:
        runs = runs.filter(created_at__gte=since)
    if version_number is not None:
        runs = runs.filter(version__number=version_number)
    rows = (
        runs.values("outcome")
        .annotate(
            reached=Count("pk"),
            yes=Count("pk", filter=Q(solved=True)),
            no=Count("pk", filter=Q(solved=False)),
            bank_lead=Count("pk", filter=Q(bank_lead=True)),
        )
        .order_by("-reached", "outcome")
    )
    result = []
    for row in rows:
        voted = row["yes"] + row["no"]
        result.append(
            {
                **row,
                "unanswered": row["reached"] - voted,
                "rate": (row["yes"] / voted) if voted else None,
            }
        )
    return result
