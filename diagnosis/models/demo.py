"""The demo history's marker (diagnosis.demo.history): present once `seed_demo` has built the
ninety days of demo activity, with what it created, so that a re-run adds nothing and
`seed_demo --reset` removes exactly those rows before building them again. DEBUG only."""

from django.db import models
from django.utils import timezone

from diagnosis.core.scrubbed_fields import ScrubbedJSONField

__all__ = ["DemoHistory"]


class DemoHistory(models.Model):
    seed = models.IntegerField()
    built_at = models.DateTimeField(default=timezone.now)
    seconds = models.FloatField(default=0)
    # {"merchants": [pk…], "tickets": [first pk, last pk], "wizard_runs": [first, last], …}
    rows = ScrubbedJSONField(default=dict)

    class Meta:
        verbose_name = "demo history"

    def __str__(self):
        return f"demo history {self.built_at:%Y-%m-%d %H:%M} (seed {self.seed})"
