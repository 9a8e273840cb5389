"""One-row configuration tables (the feed's, ranking's) and their per-process copy.

Invariants: each such model has exactly one row, id ``SINGLETON_ID``, created on first read;
``load()`` reads it fresh, ``cached()`` returns this process's copy if it is at most
``CACHE_SECONDS`` old (other processes see a change "within seconds"), and a save clears the
saving process's copy so it sees its own change at once. The admin can edit the row but not
add a second one or delete it.
"""

from __future__ import annotations

import time
from typing import Self

from django.contrib import admin
from django.db import models

# Other processes see a change within this many seconds ("applies within seconds").
CACHE_SECONDS = 2.0
# model class -> (monotonic time read, row)
_cached: dict[type[models.Model], tuple[float, models.Model]] = {}


class SingletonModel(models.Model):
    SINGLETON_ID = 1

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        self.pk = self.SINGLETON_ID
        super().save(*args, **kwargs)
        type(self).cache_clear()  # this process sees its own change at once

    @classmethod
    def load(cls) -> Self:
        row, _ = cls.objects.get_or_create(pk=cls.SINGLETON_ID)
        return row

    @classmethod
    def cached(cls) -> Self:
        """The row as this process read it at most CACHE_SECONDS ago, for paths that must not
        spend a query on it."""
        now = time.monotonic()
        entry = _cached.get(cls)
        if entry is not None and now - entry[0] < CACHE_SECONDS:
            return entry[1]
        row = cls.load()
        _cached[cls] = (now, row)
        return row

    @classmethod
    def cache_clear(cls) -> None:
        _cached.pop(cls, None)


class SingletonAdmin(admin.ModelAdmin):
    """The admin of a one-row table: edit the row, never add a second one or delete it."""

    def has_add_permission(self, request) -> bool:
        return not self.model.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
