"""The files service's entrypoint wiring, in-process on the real broker and database."""

from files import __version__
from files.service import FilesService
from tests.support.service_checks import assert_service_starts_and_answers


def test_starts_answers_ping_and_is_ready(run_service) -> None:
    assert FilesService.version == __version__
    assert_service_starts_and_answers(run_service, FilesService)
