"""The identity service's entrypoint wiring, in-process on the real broker and database."""

import functools

from identity import __version__
from identity.service import IdentityService
from tests.support.service_checks import assert_service_starts_and_answers


def test_starts_answers_ping_and_is_ready(run_service, tmp_path) -> None:
    assert IdentityService.version == __version__
    # The signing key goes to the test's folder, not the checkout's var/.
    start = functools.partial(run_service, JWT_PRIVATE_KEY_FILE=str(tmp_path / "jwt.pem"))
    assert_service_starts_and_answers(start, IdentityService)
    assert (tmp_path / "jwt.pem").exists()
