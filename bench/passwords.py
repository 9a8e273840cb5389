"""``python -m bench.passwords``: the CPU one password check costs with our Argon2id
(feedsite.hashers, first in PASSWORD_HASHERS), with Django's own Argon2 settings, and with
PBKDF2 (Django's default before). Reports the median and p95 CPU time (process time, all
threads: Django's Argon2 runs 8 lanes) and the median wall time of ``--checks`` checks, and
writes bench/results/passwords.json. Numbers: docs/performance.md#logins.

No database or Redis: hashing is all it measures."""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from bench.percentiles import percentile

RESULTS = Path(__file__).resolve().parent / "results"
HASHERS = {
    "argon2 (feedsite)": "feedsite.hashers.Argon2PasswordHasher",
    "argon2 (Django)": "django.contrib.auth.hashers.Argon2PasswordHasher",
    "pbkdf2_sha256": "django.contrib.auth.hashers.PBKDF2PasswordHasher",
}
PASSWORD = "correct-horse-battery-staple"


def measure(hasher_path: str, checks: int) -> dict:
    from django.utils.module_loading import import_string

    hasher = import_string(hasher_path)()
    encoded = hasher.encode(PASSWORD, hasher.salt())
    cpu, wall = [], []
    for _ in range(checks):
        started_cpu, started_wall = time.process_time(), time.perf_counter()
        assert hasher.verify(PASSWORD, encoded)
        cpu.append(time.process_time() - started_cpu)
        wall.append(time.perf_counter() - started_wall)
    return {
        "settings": {k: v for k, v in hasher.safe_summary(encoded).items() if k not in ("salt", "hash")},
        "median_cpu_ms": round(percentile(cpu, 50) * 1000, 1),
        "p95_cpu_ms": round(percentile(cpu, 95) * 1000, 1),
        "median_wall_ms": round(percentile(wall, 50) * 1000, 1),
        "checks": checks,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=15, help="password checks per hasher (default 15)")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "feedsite.settings")
    import django

    django.setup()
    results = {name: measure(path, args.checks) for name, path in HASHERS.items()}
    for name, result in results.items():
        cpu = f"median {result['median_cpu_ms']:6.1f} ms, p95 {result['p95_cpu_ms']:6.1f} ms"
        wall = f"wall median {result['median_wall_ms']:6.1f} ms"
        print(f"{name:18s} CPU per check: {cpu}; {wall}  {result['settings']}")
    ratio = results["pbkdf2_sha256"]["median_cpu_ms"] / results["argon2 (feedsite)"]["median_cpu_ms"]
    print(f"PBKDF2 / feedsite Argon2 CPU per check: {ratio:.1f}x")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "passwords.json").write_text(json.dumps(results, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
