"""What the probe services agree on: their event and their test tables."""

from __future__ import annotations

from shared.contracts.events import DomainEvent

PROBE_TABLES = """
CREATE TABLE IF NOT EXISTS probe_received (
    event_id uuid NOT NULL,
    batch text NOT NULL,
    seq integer NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS probe_calls (
    token text NOT NULL,
    called_at timestamptz NOT NULL DEFAULT now()
);
"""


class ProbeEmitted(DomainEvent):
    event_type = "probe_emitted"

    batch: str
    seq: int
