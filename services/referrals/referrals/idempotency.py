"""The referrals service's idempotency keys (the mechanism: ``shared.idempotency``)."""

from referrals.models import IdempotencyKey
from shared.idempotency import Idempotency

once = Idempotency(IdempotencyKey).once
