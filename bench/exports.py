"""Measure the consent log's export and verification against `psql \\copy`, in one run.

Fills a bench database with N realistic consent records (plain rows loaded with COPY FROM, then
integrated into the signed log by consent.log.integration.integrate_all, as the site does), then
times, each as its own process, whose peak RSS is read from os.wait4:

  (a) psql's \\copy of the same rows (the same time range) to a CSV file: the baseline;
  (b) manage.py export_consents --format csv;
  (c) manage.py export_consents --format jsonl;
  (d) manage.py verify_consents over the whole log (skipped, saying why, if it cannot run).

Each is run --repeat times, taking turns, after one untimed warm-up of (a); the figures are the
medians. The goals: (b) at most 1.5x (a) and under 150 MB of RSS; (d) at most 5 s.

The database named by DATABASE_URL is created if missing and migrated; its name must contain
"bench", because its consent log is emptied and refilled unless it already holds N records, all
integrated (bench/log.py leaves a synthetic log behind, which is replaced).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/iportalis_bench \\
        .venv/bin/python bench/exports.py [--records 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import deque
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GOAL_RATIO, GOAL_RSS_MB, GOAL_VERIFY_S = 1.5, 150, 5.0
SINCE, UNTIL = "1970-01-01", "2100-01-01"  # every record; the same range for psql and for us
BASELINE = "psql \\copy to CSV (baseline)"
CSV = "export_consents --format csv"
JSONL = "export_consents --format jsonl"
VERIFY = "verify_consents"

USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.6778.86 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/18.1.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.6778.81 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.70",
)
PATHS = ("/", "/", "/", "/products/", "/pricing/", "/blog/cookies-explained/", "/contact/")
LANGUAGES = ("en",) * 7 + ("de",) * 2 + ("fr",)
SURFACES = ("banner",) * 17 + ("settings",) * 2 + ("api",)


class Run(NamedTuple):
    seconds: float
    rss_mb: float


BAD = Run(float("inf"), float("inf"))  # a task that did not run meets no goal


def decisions(count: int, versions: list[Any]) -> Iterator[list[Any]]:
    """Yield `count` decisions, oldest first, over the last two years, as record_columns()
    values: a quarter from returning visitors, the policy changing at 60%.
    """
    from consent.sanitise import ip_hmac, shorten_user_agent

    random.seed(1)
    agents = [shorten_user_agent(agent) for agent in USER_AGENTS]
    ips = [ip_hmac(f"198.51.{random.randrange(256)}.{random.randrange(256)}") for _ in range(5000)]
    returning: deque[uuid.UUID] = deque(maxlen=20_000)
    start = datetime.now(UTC) - timedelta(days=730)
    step = timedelta(days=729) / count
    for n in range(count):
        if returning and random.random() < 0.25:
            visitor = random.choice(returning)
            event = random.choice(("withdraw", "custom", "reconsent", "accept_all"))
        else:
            visitor = uuid.uuid4()
            returning.append(visitor)
            event = random.choices(("accept_all", "reject_all", "custom", "gpc"), (55, 30, 10, 5))[
                0
            ]
        if event == "accept_all":
            optional = [True] * 4
        elif event in ("reject_all", "withdraw", "gpc"):
            optional = [False] * 4
        else:
            optional = [random.random() < 0.5 for _ in range(4)]
        surface = "gpc" if event == "gpc" else random.choice(SURFACES)
        policy = versions[0] if n < count * 0.6 else versions[-1]
        yield [
            visitor,
            start + step * n + timedelta(microseconds=random.randrange(1_000_000)),
            event,
            surface,
            True,
            *optional,
            event == "gpc" or random.random() < 0.03,
            policy.pk,
            policy.content_sha256,
            random.choice(LANGUAGES),
            random.choice(PATHS),
            random.choice(ips),
            random.choice(agents),
        ]


def record_columns() -> tuple[str, ...]:
    """The columns of the records `decisions` yields, in its order."""
    from consent.categories import CATEGORIES, field_of

    return (
        *("consent_id", "created_at", "event", "surface"),
        *(field_of(slug) for slug in CATEGORIES),
        *("gpc", "policy_version_id", "policy_sha256", "language", "path", "ip_hmac", "user_agent"),
    )


LOG_TABLES = ("consent_cosignature", "consent_logcheckpoint", "consent_logtile", "consent_logleaf")


def empty_log(*, records: bool) -> None:
    """Empty the log's tables (and the records, if `records`), as their owner: this bench
    database only."""
    from django.db import connection

    from consent.models import ConsentRecord
    from consent.roles import as_owner

    tables = [*LOG_TABLES, *([ConsentRecord._meta.db_table] if records else [])]
    with as_owner(), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)}")


def load_records(count: int) -> None:
    """Replace the records with `count` decisions, loaded with COPY FROM as plain rows, and
    empty the log: what the integrator finds after a migration or an outage of every server.

    Each COPY of about 8 MB is a transaction of its own, so the rows carry a few dozen txids.
    """
    from django.db import connection

    from consent.models import ConsentRecord
    from consent.partitions import ensure
    from consent.roles import as_owner
    from policy.models import PolicyVersion

    versions = list(PolicyVersion.objects.published().filter(language="en").order_by("number"))
    if len(versions) < 2:  # a second, material version, as a real log has
        draft = PolicyVersion.objects.create(title="Cookie Policy", body=versions[0].body)
        draft.publish()
        versions.append(draft)
    table = ConsentRecord._meta.db_table
    copy = f"COPY {table} ({', '.join(record_columns())}) FROM STDIN WITH (FORMAT csv)"
    empty_log(records=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    with connection.cursor() as cursor:
        for n, decision in enumerate(decisions(count, versions), 1):
            writer.writerow(decision)
            if buffer.tell() > 8_000_000 or n == count:
                buffer.seek(0)
                cursor.copy_expert(copy, buffer)
                buffer.seek(0)
                buffer.truncate()
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {count})")
    # The two years' rows went to the DEFAULT partition: give each month its own, as the daily
    # `consent_partitions` would have (consent.partitions).
    with as_owner():
        ensure(3)
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {table}")


def fill(count: int) -> None:
    """Replace the consent log with `count` records, integrated into the log as the site does."""
    from django.db import connection

    from consent.log.integration import integrate_all

    load_records(count)
    integrate_all()
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {', '.join(LOG_TABLES)}")


def filled(count: int) -> bool:
    """Return whether the bench database holds `count` records, all of them in the log."""
    from consent.log import store
    from consent.log.models import LogLeaf
    from consent.models import ConsentRecord

    head = store.latest()
    return (
        ConsentRecord.objects.count() == count
        and head is not None
        and LogLeaf.objects.filter(source="record").count() == count
        and LogLeaf.objects.count() == head.size
    )


# Runs a command and prints its wall time and peak RSS. It is a fresh, small process: a child
# forked straight from this one would count this process's memory as its own peak.
LAUNCHER = """
import os, subprocess, sys, time
started = time.perf_counter()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
print(time.perf_counter() - started, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status))
"""


class Failed(Exception):
    pass


def measure(argv: list[str], env: dict[str, str]) -> Run:
    """Run a command to its end; return its wall time and peak RSS (of its largest process)."""
    done = subprocess.run(
        [PYTHON, "-S", "-c", LAUNCHER, *argv], env=env, cwd=REPO, capture_output=True, text=True
    )
    seconds, rss_mb, code = done.stdout.split()
    if done.returncode or int(code):
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        command = " ".join(argv[1:3]) if argv[0] == PYTHON else argv[0]  # manage.py X, psql
        raise Failed(f"{command} failed: {last}")
    return Run(float(seconds), float(rss_mb))  # Linux counts ru_maxrss in kilobytes


def machine(version: str) -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} CPUs, {memory:.0f} GiB, PostgreSQL {version}, "
        f"Python {platform.python_version()}, {platform.machine()} Linux"
    )


def bench_database_url() -> str:
    """Return DATABASE_URL if it names a bench database: the benches replace its consent log."""
    url = os.environ.get("DATABASE_URL", "")
    if "bench" not in url.rsplit("/", 1)[-1]:
        raise SystemExit(
            "Set DATABASE_URL to a database whose name contains 'bench' (e.g. "
            "postgres://postgres@127.0.0.1:5432/iportalis_bench): its consent log is replaced."
        )
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    url = bench_database_url()
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "iportalis.settings.dev", "DEBUG": "0"}
    os.environ.update(env)
    from iportalis.embedded_db import create_database
    from iportalis.env import database_from_url

    create_database(database_from_url(url))  # migrate fills it

    import django
    from django.core.management import call_command
    from django.db import connection

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)

    from consent.models import ConsentRecord

    if filled(args.records):
        print(f"Reusing the {args.records:,} records already in the bench database.")
    else:
        started = time.perf_counter()
        fill(args.records)
        seconds = time.perf_counter() - started
        print(f"Filled the bench database: {args.records:,} records in {seconds:.0f} s.")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version')")
        (server,) = cursor.fetchone() or ("?",)
    connection.close()

    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        baseline = (
            f"\\copy (SELECT * FROM {ConsentRecord._meta.db_table} WHERE created_at >= "
            f"'{SINCE}' AND created_at < '{UNTIL}') TO '{out / 'psql.csv'}' (FORMAT csv, HEADER)"
        )
        export = [PYTHON, "manage.py", "export_consents", "--since", SINCE, "--until", UNTIL]
        tasks = {
            BASELINE: (["psql", url, "-X", "-q", "-c", baseline], "psql.csv"),
            CSV: ([*export, "--format", "csv", "--output", str(out / "ours.csv")], "ours.csv"),
            JSONL: ([*export, "--format", "jsonl", "-o", str(out / "ours.jsonl")], "ours.jsonl"),
            VERIFY: ([PYTHON, "manage.py", "verify_consents"], ""),
        }
        # One untimed run of each warms the caches, and leaves out a command that cannot run
        # (verify_consents before its rewrite for the signed log lands), saying why.
        skipped: dict[str, str] = {}
        for name, (argv, _file) in tasks.items():
            try:
                measure(argv, env)
            except Failed as failure:
                if name == BASELINE:
                    raise SystemExit(str(failure)) from None
                skipped[name] = str(failure)
        runs: dict[str, list[Run]] = {name: [] for name in tasks if name not in skipped}
        for _ in range(args.repeat):
            for name in list(runs):
                try:
                    runs[name].append(measure(tasks[name][0], env))
                except Failed as failure:
                    if name == BASELINE:
                        raise SystemExit(str(failure)) from None
                    skipped[name] = str(failure)
                    del runs[name]
        outputs = {name: out / tasks[name][1] for name in runs if tasks[name][1]}
        sizes = {name: path.stat().st_size for name, path in outputs.items()}
        lines = {name: sum(1 for _ in path.open("rb")) for name, path in outputs.items()}

    report(args.records, machine(server), runs, sizes, lines, skipped)


def report(
    records: int,
    machine: str,
    runs: dict[str, list[Run]],
    sizes: dict[str, int],
    lines: dict[str, int],
    skipped: dict[str, str],
) -> None:
    median = {
        name: Run(statistics.median(r.seconds for r in rs), statistics.median(r.rss_mb for r in rs))
        for name, rs in runs.items()
    }
    baseline = median[BASELINE].seconds
    repeat = len(runs[BASELINE])
    print(f"\nConsent log export and verification: {records:,} records, median of {repeat}")
    print(f"Machine: {machine}\n")
    print(f"{'task':<32}{'time':>9}{'vs psql':>9}{'peak RSS':>11}{'output':>10}{'lines':>12}")
    for name, run in median.items():
        ratio = f"{run.seconds / baseline:.2f}x" if name in sizes else "-"
        size = f"{sizes[name] / 2**20:.0f} MB" if name in sizes else "-"
        count = f"{lines[name]:,}" if name in lines else "-"
        print(
            f"{name:<32}{run.seconds:>7.2f} s{ratio:>9}{run.rss_mb:>8.0f} MB{size:>10}{count:>12}"
        )
    for name, why in skipped.items():
        print(f"{name:<32}{'skipped':>9}  {why}")
    goals: dict[str, tuple[str, bool]] = {
        f"CSV export <= {GOAL_RATIO}x psql \\copy": (
            CSV,
            median.get(CSV, BAD).seconds <= GOAL_RATIO * baseline,
        ),
        f"CSV export < {GOAL_RSS_MB} MB RSS": (CSV, median.get(CSV, BAD).rss_mb < GOAL_RSS_MB),
        f"JSONL export < {GOAL_RSS_MB} MB RSS": (
            JSONL,
            median.get(JSONL, BAD).rss_mb < GOAL_RSS_MB,
        ),
        f"verify_consents <= {GOAL_VERIFY_S:.0f} s": (
            VERIFY,
            median.get(VERIFY, BAD).seconds <= GOAL_VERIFY_S,
        ),
    }
    print()
    for goal, (name, met) in goals.items():
        print(f"{'SKIP' if name in skipped else 'PASS' if met else 'FAIL'}  {goal}")


if __name__ == "__main__":
    main()
