"""The notifications service's entrypoint wiring, in-process on the real broker and database."""

from notifications import __version__
from notifications.service import NotificationsService
from tests.support.service_checks import assert_service_starts_and_answers


def test_starts_answers_ping_and_is_ready(run_service) -> None:
    assert NotificationsService.version == __version__
    assert_service_starts_and_answers(run_service, NotificationsService)
