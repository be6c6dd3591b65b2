"""Measure the consent log's export and verification against `psql \\copy`, in one run.

Fills a bench database with N realistic consent records whose hash chains are valid (hashes
computed with consent.integrity, rows loaded with COPY FROM), then times, each as its own
process, whose peak RSS is read from os.wait4:

  (a) psql's \\copy of the same rows (the same time range) to a CSV file: the baseline;
  (b) manage.py export_consents --format csv;
  (c) manage.py export_consents --format jsonl;
  (d) manage.py verify_consents over the whole log.

Each is run --repeat times, taking turns, after one untimed warm-up of (a); the figures are the
medians. The goals: (b) at most 1.5x (a) and under 150 MB of RSS; (d) at most 10 s.

The database named by DATABASE_URL is created if missing and migrated; its name must contain
"bench", because its consent log is emptied and refilled unless it already holds N records.

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
GOAL_RATIO, GOAL_RSS_MB, GOAL_VERIFY_S = 1.5, 150, 10.0
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


def decisions(count: int, versions: list[Any]) -> Iterator[list[Any]]:
    """Yield `count` decisions, oldest first, over the last two years, as HASHED_FIELDS values
    from `consent_id` on: a quarter from returning visitors, the policy changing at 60%.
    """
    from consent.records import ip_hmac, shorten_user_agent

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


def fill(count: int) -> None:
    """Replace the consent log with `count` records, hashed and chained as the site does."""
    from django.db import connection

    from consent import integrity
    from consent.models import ChainHead, ConsentRecord
    from policy.models import PolicyVersion

    versions = list(PolicyVersion.objects.published().filter(language="en").order_by("number"))
    if len(versions) < 2:  # a second, material version, as a real log has
        draft = PolicyVersion.objects.create(title="Cookie Policy", body=versions[0].body)
        draft.publish()
        versions.append(draft)
    key = integrity.integrity_key()
    fields = integrity.HASHED_FIELDS
    columns = [*fields[3:], "chain", "seq", "prev_hash", "hash"]
    table = ConsentRecord._meta.db_table
    copy = f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)"
    heads = dict.fromkeys(range(integrity.CHAINS), (0, integrity.GENESIS))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    with connection.cursor() as cursor:
        cursor.execute("SET consent.allow_truncate = 'on'")  # this bench database only
        cursor.execute(f"TRUNCATE {table}, consent_chainhead, consent_chaincheckpoint")
        for n, decision in enumerate(decisions(count, versions), 1):
            chain = n % integrity.CHAINS
            seq, prev_hash = heads[chain][0] + 1, heads[chain][1]
            record_hash = integrity.record_hash([chain, seq, prev_hash, *decision], key)
            heads[chain] = (seq, record_hash)
            writer.writerow([*decision, chain, seq, prev_hash, record_hash])
            if buffer.tell() > 8_000_000 or n == count:
                buffer.seek(0)
                cursor.copy_expert(copy, buffer)
                buffer.seek(0)
                buffer.truncate()
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {count})")
    ChainHead.objects.bulk_create(
        ChainHead(chain=chain, seq=seq, hash=hash) for chain, (seq, hash) in heads.items()
    )
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {table}")


# Runs a command and prints its wall time and peak RSS. It is a fresh, small process: a child
# forked straight from this one would count this process's memory as its own peak.
LAUNCHER = """
import os, subprocess, sys, time
started = time.perf_counter()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
print(time.perf_counter() - started, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status))
"""


def measure(argv: list[str], env: dict[str, str]) -> Run:
    """Run a command to its end; return its wall time and peak RSS (of its largest process)."""
    done = subprocess.run(
        [PYTHON, "-S", "-c", LAUNCHER, *argv], env=env, cwd=REPO, capture_output=True, text=True
    )
    seconds, rss_mb, code = done.stdout.split()
    if done.returncode or int(code):
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stderr}")
    return Run(float(seconds), float(rss_mb))  # Linux counts ru_maxrss in kilobytes


def machine(version: str) -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} CPUs, {memory:.0f} GiB, PostgreSQL {version}, "
        f"Python {platform.python_version()}, {platform.machine()} Linux"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if "bench" not in url.rsplit("/", 1)[-1]:
        raise SystemExit(
            "Set DATABASE_URL to a database whose name contains 'bench' (e.g. "
            "postgres://postgres@127.0.0.1:5432/iportalis_bench): its consent log is replaced."
        )
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

    if ConsentRecord.objects.count() == args.records:
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
        measure(tasks[BASELINE][0], env)  # warm the caches
        runs: dict[str, list[Run]] = {name: [] for name in tasks}
        for _ in range(args.repeat):
            for name, (argv, _file) in tasks.items():
                runs[name].append(measure(argv, env))
        outputs = {name: out / file for name, (_argv, file) in tasks.items() if file}
        sizes = {name: path.stat().st_size for name, path in outputs.items()}
        lines = {name: sum(1 for _ in path.open("rb")) for name, path in outputs.items()}

    report(args.records, machine(server), runs, sizes, lines)


def report(
    records: int,
    machine: str,
    runs: dict[str, list[Run]],
    sizes: dict[str, int],
    lines: dict[str, int],
) -> None:
    median = {
        name: Run(statistics.median(r.seconds for r in rs), statistics.median(r.rss_mb for r in rs))
        for name, rs in runs.items()
    }
    baseline = median[BASELINE].seconds
    print(f"\nConsent log export and verification: {records:,} records, median of {len(runs[CSV])}")
    print(f"Machine: {machine}\n")
    print(f"{'task':<32}{'time':>9}{'vs psql':>9}{'peak RSS':>11}{'output':>10}{'lines':>12}")
    for name, run in median.items():
        ratio = f"{run.seconds / baseline:.2f}x" if name in sizes else "-"
        size = f"{sizes[name] / 2**20:.0f} MB" if name in sizes else "-"
        count = f"{lines[name]:,}" if name in lines else "-"
        print(
            f"{name:<32}{run.seconds:>7.2f} s{ratio:>9}{run.rss_mb:>8.0f} MB{size:>10}{count:>12}"
        )
    goals = {
        f"CSV export <= {GOAL_RATIO}x psql \\copy": median[CSV].seconds <= GOAL_RATIO * baseline,
        f"CSV export < {GOAL_RSS_MB} MB RSS": median[CSV].rss_mb < GOAL_RSS_MB,
        f"JSONL export < {GOAL_RSS_MB} MB RSS": median[JSONL].rss_mb < GOAL_RSS_MB,
        f"verify_consents <= {GOAL_VERIFY_S:.0f} s": median[VERIFY].seconds <= GOAL_VERIFY_S,
    }
    print()
    for goal, met in goals.items():
        print(f"{'PASS' if met else 'FAIL'}  {goal}")


if __name__ == "__main__":
    main()
