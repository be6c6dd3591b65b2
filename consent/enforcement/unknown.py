"""Cookie names the middleware meets that the registry does not know, batched in process.

Sightings are counted in memory and written in one upsert at most every FLUSH_SECONDS, so a page
view never waits on a database write of its own. A process that stops loses at most that many
seconds of counts, which is fine for a list that only tells admins what to classify.

The table holds at most MAX_ROWS names, whatever the number of processes and flushes: once it is
full, a new name takes the place of the least-seen one only if it was seen more often in its
batch than that one in all its life. A client inventing names (each seen once) so fills it once
and then displaces nothing, while a real cookie, which many browsers send, still gets in.
"""

from __future__ import annotations

import datetime
import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import DatabaseError, connection, transaction
from django.db.backends.utils import CursorWrapper

from ..models import UnknownCookie
from ..sanitise import is_storable, storable

logger = logging.getLogger(__name__)

FLUSH_SECONDS = 30.0
# Between two flushes, names beyond this many are not counted, nor names too long to be real, nor
# names PostgreSQL cannot store (a NUL would fail the whole batch): a client inventing cookie names
# must not fill the memory or the table.
MAX_NAMES = 500
MAX_NAME_LENGTH = UnknownCookie._meta.get_field("name").max_length or 200
MAX_PATH_LENGTH = UnknownCookie._meta.get_field("example_path").max_length or 500
MAX_ROWS = 1_000
# Serialises the flushes of every process (pg_advisory_xact_lock's key): counting the rows and
# adding to them must not interleave, or two flushes could each fill the last free rows.
FLUSH_LOCK = 0x1F_C00C1E


@dataclass
class Sighting:
    first_seen: float  # Unix times: cheaper to take per request than datetimes
    last_seen: float
    count: int
    example_path: str


class Sightings:
    def __init__(self) -> None:
        self._seen: dict[str, Sighting] = {}
        self._lock = threading.Lock()
        self._flushed_at = time.monotonic()

    def note(self, names: Iterable[str], path: str) -> None:
        now = time.time()
        with self._lock:
            for name in names:
                seen = self._seen.get(name)
                if seen is not None:
                    seen.last_seen = now
                    seen.count += 1
                elif (
                    len(self._seen) < MAX_NAMES
                    and len(name) <= MAX_NAME_LENGTH
                    and is_storable(name)
                ):
                    self._seen[name] = Sighting(now, now, 1, storable(path[:MAX_PATH_LENGTH]))

    def flush_due(self) -> bool:
        return bool(self._seen) and time.monotonic() - self._flushed_at >= FLUSH_SECONDS

    def take(self) -> dict[str, Sighting]:
        """Return the sightings gathered since the last flush, and start gathering afresh."""
        with self._lock:
            seen, self._seen = self._seen, {}
            self._flushed_at = time.monotonic()
        return seen

    def flush(self) -> None:
        """Add the counts gathered since the last flush to the UnknownCookie table."""
        seen = self.take()
        if not seen:
            return
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [FLUSH_LOCK])
                admitted = _count_listed(cursor, seen)
                _insert(cursor, {name: seen[name] for name in admitted})
        except DatabaseError:
            # Counting unknown cookies is worth a log line, never a failed page.
            logger.warning("Could not record %d unknown cookie names", len(seen), exc_info=True)


TABLE = UnknownCookie._meta.db_table


def _count_listed(cursor: CursorWrapper, seen: dict[str, Sighting]) -> list[str]:
    """Add the counts of names already listed; return the new names the table has room for."""
    cursor.execute(
        f"""
        UPDATE {TABLE} AS t SET
            last_seen = GREATEST(t.last_seen, s.last_seen), count = t.count + s.count
        FROM unnest(%s::varchar[], %s::timestamptz[], %s::bigint[]) AS s(name, last_seen, count)
        WHERE t.name = s.name
        RETURNING t.name
        """,
        [list(seen), [utc(s.last_seen) for s in seen.values()], [s.count for s in seen.values()]],
    )
    listed = {name for (name,) in cursor.fetchall()}
    new = sorted((name for name in seen if name not in listed), key=lambda n: -seen[n].count)
    if not new:
        return []
    cursor.execute(f"SELECT count(*) FROM {TABLE}")
    room = max(0, MAX_ROWS - cursor.fetchone()[0])
    admitted, waiting = new[:room], new[room:]
    if not waiting:
        return admitted
    cursor.execute(
        f"SELECT id, count FROM {TABLE} ORDER BY count, last_seen, id LIMIT %s", [len(waiting)]
    )
    # The most seen of the waiting names against the least seen rows: once one pair fails,
    # every later one (fewer sightings against more) fails too.
    displaced = []
    for (row, count), name in zip(cursor.fetchall(), waiting, strict=False):
        if seen[name].count <= count:
            break
        displaced.append(row)
        admitted.append(name)
    if displaced:
        cursor.execute(f"DELETE FROM {TABLE} WHERE id = ANY(%s)", [displaced])
    return admitted


def _insert(cursor: CursorWrapper, seen: dict[str, Sighting]) -> None:
    if not seen:
        return
    cursor.execute(
        f"""
        INSERT INTO {TABLE} AS t (name, first_seen, last_seen, count, example_path)
        SELECT * FROM unnest(
            %s::varchar[], %s::timestamptz[], %s::timestamptz[], %s::bigint[], %s::varchar[]
        )
        ON CONFLICT (name) DO UPDATE SET
            last_seen = GREATEST(t.last_seen, EXCLUDED.last_seen),
            count = t.count + EXCLUDED.count
        """,
        [
            list(seen),
            [utc(s.first_seen) for s in seen.values()],
            [utc(s.last_seen) for s in seen.values()],
            [s.count for s in seen.values()],
            [s.example_path for s in seen.values()],
        ],
    )


def utc(timestamp: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(timestamp, tz=datetime.UTC)


sightings = Sightings()
