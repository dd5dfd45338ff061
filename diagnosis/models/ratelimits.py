"""Counters of the rate limits when there is no Redis (config.cache_backends.CounterCache).

One row per (limit, key, window): the key is a hash, the count an integer changed by single
atomic statements, `expires` a Unix time. Rows of windows that are over are reused or removed.
"""

from django.db import models

__all__ = ["RateCounter"]


class RateCounter(models.Model):
    key = models.CharField(max_length=250, primary_key=True)
    count = models.BigIntegerField(default=0)
    expires = models.BigIntegerField(db_index=True)

    class Meta:
        db_table = "declinedesk_ratelimit"

    def __str__(self):
        return f"{self.key}: {self.count}"
