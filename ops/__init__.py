"""Running the site: health and readiness probes, and Prometheus metrics.

`OpsMiddleware` answers `/healthz`, `/readyz` and `/metrics` itself, above the host check and the
HTTPS redirect, since load balancers probe with an address for a host and over plain HTTP.
`ops.metrics` defines every metric the other apps count; `ops.readiness` runs the checks that
decide whether this process should take traffic.
"""
