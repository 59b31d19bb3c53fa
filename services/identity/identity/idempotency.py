"""The identity service's idempotency keys (the mechanism: ``shared.idempotency``)."""

from identity.models import IdempotencyKey
from shared.idempotency import Idempotency

once = Idempotency(IdempotencyKey).once
