"""Offices that sent each other a referral become colleagues (from the referrals' event)."""

from __future__ import annotations

import uuid

from shared.contracts.events import EventEnvelope
from shared.contracts.referrals import ReferralSent
from shared.outbox import EventPublisher
from tests.support.infra import wait_for

from .support import Identity


def test_a_sent_referral_makes_the_offices_colleagues_once(identity: Identity) -> None:
    dentist = identity.office(name="Bright Smiles")
    surgeon = identity.office(name="Lakeside Oral Surgery", kind="specialist", specialty="OS")
    # An event naming an office identity does not know links nothing and holds up nothing.
    stray = ReferralSent(
        referral_id=uuid.uuid4(),
        reference="R-STRAY1",
        sender_office_id=uuid.uuid4(),
        receiver_office_id=surgeon.office_id,
        sent_by=None,
        urgency="routine",
    )
    event = ReferralSent(
        referral_id=uuid.uuid4(),
        reference="R-7K3F9Q",
        sender_office_id=dentist.office_id,
        receiver_office_id=surgeon.office_id,
        sent_by=dentist.user_id,
        urgency="routine",
    )
    envelope = EventEnvelope.wrap(event, producer="referrals").model_dump(mode="json")
    publisher = EventPublisher(identity.config["AMQP_URI"], "referrals")
    try:
        stray_envelope = EventEnvelope.wrap(stray, producer="referrals").model_dump(mode="json")
        assert publisher.publish(stray_envelope, headers={})
        assert publisher.publish(envelope, headers={})
        assert publisher.publish(envelope, headers={})  # a redelivery changes nothing
    finally:
        publisher.close()

    def colleagues(caller: dict) -> list[tuple[str, str]]:
        return [(c["office"]["id"], c["relation"]) for c in identity.list_colleagues(caller=caller)]

    assert wait_for(lambda: colleagues(dentist.caller), timeout=10) == [
        (surgeon.office_id, "sent_work")
    ]
    assert colleagues(surgeon.caller) == [(dentist.office_id, "received_work")]
    handled = identity.sql(
        "SELECT count(*) FROM processed_events WHERE event_id = %s", envelope["event_id"]
    )
    assert handled[0][0] == 1
    assert identity.sql("SELECT count(*) FROM colleagues")[0][0] == 2
    # The stray one was handled (done with, not retried for ever).
    stray_id = stray_envelope["event_id"]
    wait_for(
        lambda: (
            identity.sql("SELECT count(*) FROM processed_events WHERE event_id = %s", stray_id)[0][
                0
            ]
            == 1
        ),
        timeout=10,
    )
