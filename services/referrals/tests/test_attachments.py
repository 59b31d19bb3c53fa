"""The referral's detail lists the ids of its files, as the files service announces them."""

from __future__ import annotations

import uuid

from shared.contracts.events import EventEnvelope
from shared.contracts.files import FileKind, FileUploaded, OwnerType
from shared.outbox import EventPublisher
from tests.support.infra import wait_for

from .support import Bridge, referral


def _announce(bridge: Bridge, event: FileUploaded) -> None:
    envelope = EventEnvelope.wrap(event, producer="files").model_dump(mode="json")
    publisher = EventPublisher(bridge.config["AMQP_URI"], "files")
    try:
        assert publisher.publish(envelope, headers={})
        assert publisher.publish(envelope, headers={})  # a redelivery changes nothing
    finally:
        publisher.close()


def test_uploaded_files_appear_in_the_referral_for_both_offices(bridge: Bridge) -> None:
    sender, receiver = bridge.office(), bridge.office()
    sent = bridge.create_referral(caller=sender.caller, payload=referral(sender, receiver))
    ids = [uuid.uuid4(), uuid.uuid4()]
    for file_id, office in zip(ids, (sender, receiver), strict=True):
        _announce(
            bridge,
            FileUploaded(
                file_id=file_id,
                owner_type=OwnerType.referral,
                owner_id=sent["id"],
                kind=FileKind.dicom,
                uploaded_by_office_id=office.id,
                uploaded_by_user_id=None,
            ),
        )
    # A case's file, and a file of a referral this service does not hold, are not listed.
    for owner_type in (OwnerType.case, OwnerType.referral):
        _announce(
            bridge,
            FileUploaded(
                file_id=uuid.uuid4(),
                owner_type=owner_type,
                owner_id=uuid.uuid4(),
                kind=FileKind.pdf,
                uploaded_by_office_id=sender.id,
                uploaded_by_user_id=None,
            ),
        )

    def listed(office) -> list[str]:
        return bridge.get_referral(caller=office.caller, referral_id=sent["id"])["file_ids"]

    expected = sorted(str(i) for i in ids)
    assert wait_for(lambda: sorted(listed(sender)) == expected and listed(sender), timeout=10)
    assert sorted(listed(receiver)) == expected
    assert bridge.sql("SELECT count(*) FROM referral_files") == [(2,)]
