"""The cases service's idempotency keys (the mechanism: ``shared.idempotency``)."""

from cases.models import IdempotencyKey
from shared.idempotency import Idempotency

once = Idempotency(IdempotencyKey).once
