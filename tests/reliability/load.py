"""Many visitors deciding at once: the load the reliability tests put on gunicorn.

Each client is a thread sending decisions one after the other as two kinds of visitor in turn: a
new one (no consent cookie), then the same one changing their mind (sending back the cookie the
first decision set), so the log gets both first and later records of a chain.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from .servers import Response, Visitor

CONSENT_COOKIE = "iportalis_consent"
DECISIONS = [
    {"action": "accept_all"},
    {"action": "reject_all"},
    {"action": "custom", "choices": {"first-party": True, "session": True}},
    {"action": "custom", "choices": {"third-party": True, "persistent": True}},
]


@dataclass(frozen=True)
class Answer:
    response: Response
    at: float  # time.monotonic() when it arrived

    @property
    def status(self) -> int:
        return self.response.status


@dataclass
class Results:
    answers: list[Answer] = field(default_factory=list)
    errors: list[Exception] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def statuses(self) -> Counter[int]:
        return Counter(answer.status for answer in self.answers)

    @property
    def per_second(self) -> float:
        return len(self.answers) / self.seconds

    def records(self) -> list[int]:
        """Return the record IDs the site acknowledged: every 2xx names its record."""
        return [a.response.json()["record"] for a in self.answers if 200 <= a.status < 300]


def run(
    site: str,
    path: str,
    *,
    total: int,
    clients: int,
    again: Callable[[Response], float | None] | None = None,
) -> Results:
    """Send `total` decisions to `path` from `clients` threads at once and collect every answer.

    `again(response)` may return a number of seconds after which to send the same decision
    again, as the banner does after a 503.
    """
    results = Results()
    lock = threading.Lock()
    visitors = [Visitor(timeout=30) for _ in range(clients)]
    for visitor in visitors:
        visitor.fetch_csrftoken(site)
    start = threading.Barrier(clients + 1)

    def work(visitor: Visitor, count: int) -> None:
        start.wait()
        try:
            for n in range(count):
                if n % 2 == 0:
                    visitor.cookies.pop(CONSENT_COOKIE, None)  # a new visitor
                decision = {**DECISIONS[n % len(DECISIONS)], "path": "/load/"}
                while True:
                    response = visitor.post_json(f"{site}{path}", decision)
                    with lock:
                        results.answers.append(Answer(response, time.monotonic()))
                    wait = again(response) if again else None
                    if wait is None:
                        break
                    time.sleep(wait)
        except Exception as error:  # the test expects none, and reports them
            results.errors.append(error)

    threads = [
        threading.Thread(target=work, args=(visitor, total // clients + (i < total % clients)))
        for i, visitor in enumerate(visitors)
    ]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.monotonic()
    for thread in threads:
        thread.join()
    results.seconds = time.monotonic() - began
    return results
