"""The password hasher: Django's Argon2id with OWASP's first recommended setting (19 MiB,
2 passes, 1 lane) instead of Django's (100 MiB, 2 passes, 8 lanes), which costs as much CPU
per check as the PBKDF2 it replaces. Same algorithm name, so hashes made with either
setting verify, and Django re-hashes the others at the next sign-in (must_update). Numbers:
docs/performance.md#logins (``python -m bench.passwords``)."""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher as DjangoArgon2PasswordHasher


class Argon2PasswordHasher(DjangoArgon2PasswordHasher):
    memory_cost = 19 * 1024  # KiB
    time_cost = 2
    parallelism = 1
