"""gunicorn's settings for the site, read from the working directory: `gunicorn iportalis.wsgi`.

Each can be changed from the environment: the few below by name, any other with
GUNICORN_CMD_ARGS (`GUNICORN_CMD_ARGS="--timeout 120"`); options on the command line win over both.
"""

from __future__ import annotations

import os
from typing import Any

# Behind a proxy on the same host by default, so the app is never exposed unproxied by accident.
# A platform that sets PORT routes outside traffic to it, so then every interface listens.
# BIND takes precedence: comma-separated addresses, e.g. "unix:/run/iportalis.sock".
if os.environ.get("BIND"):
    bind = [address.strip() for address in os.environ["BIND"].split(",") if address.strip()]
elif os.environ.get("PORT"):
    bind = [f"0.0.0.0:{os.environ['PORT']}"]
else:
    bind = ["127.0.0.1:8000"]


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the CPUs this process may run on (containers)
    except AttributeError:
        return os.cpu_count() or 1


# Requests spend much of their time waiting on PostgreSQL, hence gunicorn's 2 × CPUs + 1. Each
# worker keeps two database connections, its requests' and its integrator's (below):
# 2 × workers × app servers must stay below max_connections.
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * _cpus() + 1)

# The consent log's integrator. Each worker loads iportalis/wsgi.py, which starts a background
# thread (consent.log.integration.Integrator) that integrates a batch of committed records every
# second. Every worker of every server runs one; a PostgreSQL advisory lock lets one batch run at
# a time across all of them, and when a worker or a whole server dies, the next thread to try
# takes over from the last checkpoint (a batch cut off rolls back whole). Nothing to configure.
#
# The thread must start in each worker, after the fork: a thread started in the master would
# not survive into the workers, and would integrate from the master, on a connection made
# before the fork. wsgi.py loads in each worker only while preload_app is off, so it is off here
# and must stay off (no --preload in GUNICORN_CMD_ARGS).
#
# To integrate from a process of its own instead, set CONSENT_LOG_INTEGRATOR=false in the
# servers' environment and run `python manage.py integrate_log` beside them under the process
# manager (one or more: the lock again lets one batch run at a time). Records wait for it while
# none runs, and go in when one returns.
preload_app = False

# The app is synchronous Django with short requests; the proxy in front buffers slow clients.
worker_class = "sync"

# Requests take milliseconds. The longest legitimate ones stream an audit export or verify the
# log for an auditor; a worker silent for longer than this is stuck and is killed.
timeout = 60
# Shorter than the 30 s most process managers (Kubernetes, Heroku, ECS) allow before SIGKILL,
# so a stopping worker finishes its requests and runs worker_exit below.
graceful_timeout = 20

# A safety net against slow leaks: the per-process memos are bounded, so restart seldom. The
# jitter keeps the workers from all restarting at the same moment.
max_requests = 5000
max_requests_jitter = 500

# The heartbeat file is touched constantly; on a disk-backed /tmp (containers) that can block.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# Requests to stdout, errors to stderr: the process manager collects both.
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'

# Only a proxy at these addresses may say the request came over HTTPS (X-Forwarded-Proto).
# Behind a platform's router (PORT set), name its addresses, or "*" if nothing else can connect.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# gunicorn's control socket defaults to one path per user (~/.gunicorn/gunicorn.ctl): a second
# instance on the host would take it over. Opt in by naming a path of this instance's own.
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True


def worker_exit(server: Any, worker: Any) -> None:
    """Write the unknown cookie names this worker counted in memory before it goes.

    Workers stop on every deploy and every max_requests; without this, each stop would lose up
    to 30 s of counts. gunicorn may also call this in the master, where Django is not loaded.
    """
    from django.apps import apps

    if not apps.ready:
        return
    try:
        from consent.enforcement.unknown import sightings

        sightings.flush()  # logs a database error itself
    except Exception:
        # Counting unknown cookies is not worth a traceback from a worker that is stopping.
        worker.log.warning("Could not write unknown cookie names on exit", exc_info=True)


# Prometheus metrics (/metrics, ops/metrics.py): every worker writes its counters to files in
# PROMETHEUS_MULTIPROC_DIR and a scrape adds up all of them, so that it counts the whole server
# whichever worker answers. Named, the folder is emptied at each start (counts of an earlier run
# would be added in); unnamed, the master makes a fresh one and removes it on exit. Set before
# any worker loads the app: prometheus-client picks its mode when it is imported.
_made_metrics_dir: str | None = None


def on_starting(server: Any) -> None:
    global _made_metrics_dir
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        os.makedirs(folder, exist_ok=True)
        for name in os.listdir(folder):
            if name.endswith(".db"):
                os.remove(os.path.join(folder, name))
    else:
        import tempfile

        _made_metrics_dir = tempfile.mkdtemp(prefix="iportalis-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = _made_metrics_dir


def child_exit(server: Any, worker: Any) -> None:
    """Drop the live gauges of a worker that has gone (prometheus-client's bookkeeping; its
    counters stay in the totals)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def on_exit(server: Any) -> None:
    if _made_metrics_dir is not None:
        import shutil

        shutil.rmtree(_made_metrics_dir, ignore_errors=True)
