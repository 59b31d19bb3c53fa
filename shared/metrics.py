"""Prometheus metrics shared by the services (one process = one service).

Names follow Prometheus conventions; labels carry entrypoint names and
outcomes, never ids or patient data.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

ENTRYPOINT_CALLS = Counter(
    "bridgework_entrypoint_calls_total",
    "Worker runs per entrypoint and outcome.",
    ["entrypoint", "outcome"],
)
ENTRYPOINT_SECONDS = Histogram(
    "bridgework_entrypoint_seconds",
    "Worker run time per entrypoint.",
    ["entrypoint"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
STALE_REQUESTS_DROPPED = Counter(
    "bridgework_rpc_stale_requests_dropped_total",
    "RPC requests dropped unexecuted because their caller's deadline had passed.",
)
OUTBOX_PUBLISHED = Counter(
    "bridgework_outbox_published_total", "Events published from the outbox and routed."
)
OUTBOX_UNROUTED = Counter(
    "bridgework_outbox_unrouted_total",
    "Events published from the outbox that no queue was bound for.",
)
OUTBOX_PUBLISH_FAILURES = Counter(
    "bridgework_outbox_relay_failures_total",
    "Relay passes that stopped on a broker or database error (retried with backoff).",
)
OUTBOX_PENDING = Gauge(
    "bridgework_outbox_pending", "Committed events not yet published (read at scrape time)."
)
EVENTS_HANDLED = Counter(
    "bridgework_events_handled_total",
    "Events received by a consumer, by outcome (handled, duplicate, rejected).",
    ["consumer", "outcome"],
)


def exposition() -> tuple[bytes, str]:
    """The current metrics in Prometheus text format, and its content type."""
    return generate_latest(), CONTENT_TYPE_LATEST
