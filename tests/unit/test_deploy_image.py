"""The Procfile and the one image every process runs in."""

from __future__ import annotations

import re

from tests.support.manifests import (
    PROCESSES,
    REPO,
    SERVICES,
    assert_runs_like_procfile,
    dockerfile,
    image_cmd,
    image_uid,
    procfile,
)


def test_the_procfile_runs_the_gateway_and_every_service() -> None:
    from shared.config import SERVICES as KNOWN_SERVICES

    assert set(PROCESSES) == {"gateway", *KNOWN_SERVICES}
    assert sorted(SERVICES) == sorted(KNOWN_SERVICES)
    for process in PROCESSES:
        assert procfile()[process].target, f"{process}: no module:attribute in the Procfile"


# --- the image -------------------------------------------------------------------------


def test_the_image_runs_as_an_unprivileged_user() -> None:
    assert image_uid() != 0


def test_the_image_keeps_the_source_tree_where_the_config_is_read() -> None:
    # shared/config.py finds services/<name>/config.yaml (and the migrations)
    # relative to the shared package, and the commands use relative --config paths.
    assert dockerfile()["WORKDIR"][-1] == "/app"
    assert any(re.search(r"pip install .*-e \.", run) for run in dockerfile()["RUN"])


def test_the_image_runs_the_gateway_by_default() -> None:
    assert_runs_like_procfile("gateway", image_cmd(), "Dockerfile CMD")


def test_the_build_context_leaves_out_local_state_and_secrets() -> None:
    ignored = {
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for pattern in (".venv", ".git", "var", ".env", "test-artifacts"):
        assert pattern in ignored, f".dockerignore: add {pattern}"
    assert ignored & {"__pycache__", "**/__pycache__"}
    assert ignored & {"*.pyc", "**/*.pyc"}
