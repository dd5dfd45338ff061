"""Synthetic wizard runs for the benchmark (bench/generate.py): random walks of the live tree."""

import datetime as dt

from diagnosis.wizard.engine import walk
from diagnosis.wizard.snapshot import live_tree


def random_walk(tree, rng) -> list[str]:
    tokens = []
    current = walk(tree, tokens)
    while current is not None and not current.finished:
        question = current.question
        choices = [o["id"] for o in question.get("options") or []]
        if question.get("kind") == "code" and tree.code_routes and rng.random() < 0.7:
            choices = sorted(tree.code_routes)
        tokens.append(rng.choice(choices))
        current = walk(tree, tokens)
    return tokens if current is not None else []


def wizard_run_rows(*, rng, now, days: int, per_day: int):
    """(WizardRun, rows): per_day runs a day over `days` days, as dicts of column values."""
    from diagnosis.models import WizardRun

    tree = live_tree()
    if tree is None:
        return WizardRun, []
    rows = []
    for day in range(days):
        for _ in range(per_day):
            tokens = random_walk(tree, rng)
            finished = walk(tree, tokens)
            created = now - dt.timedelta(days=day, seconds=rng.randrange(86400))
            solved = rng.choices([True, False, None], weights=[6, 2, 2])[0]
            rows.append(
                {
                    "version_id": tree.pk,
                    "path": finished.path,
                    "code": finished.code,
                    "outcome": finished.outcome["id"],
                    "bank_lead": False,
                    "solved": solved,
                    "created_at": created,
                    "finished_at": created + dt.timedelta(seconds=30)
                    if solved is not None
                    else None,
                }
            )
    return WizardRun, rows
