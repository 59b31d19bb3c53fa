"""The preview workers: long-lived processes reused from job to job, and a crash, a hang or a
stopping service costing one preview at most (real child processes, eventlet's green pipes)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import eventlet
import pytest
from PIL import Image

from files import previewing
from files.previewing import PreviewPool, PreviewStopped


@pytest.fixture
def picture(tmp_path: Path) -> Path:
    path = tmp_path / "photo.png"
    Image.new("RGB", (640, 480), (200, 30, 30)).save(path, "PNG")
    return path


@pytest.fixture
def pool():
    started = PreviewPool()
    yield started
    started.stop()


def _png(answer: dict, path: Path) -> Image.Image:
    assert answer["state"] == "ready", answer
    return Image.open(io.BytesIO(path.read_bytes()), formats=["PNG"])


def test_one_worker_makes_preview_after_preview(pool, picture, tmp_path):
    first = pool.run(picture, "image", tmp_path / "1.png")
    worker = pool.idle[0]
    second = pool.run(picture, "image", tmp_path / "2.png")
    assert pool.idle == [worker] and worker.jobs == 2 and worker.alive
    assert _png(first, tmp_path / "1.png").size == _png(second, tmp_path / "2.png").size
    assert second["metadata"]["width"] == 640


def test_a_worker_dead_while_idle_is_replaced(pool, picture, tmp_path):
    pool.run(picture, "image", tmp_path / "1.png")
    dead = pool.idle[0]
    dead.process.kill()
    dead.process.wait()
    answer = pool.run(picture, "image", tmp_path / "2.png")
    assert _png(answer, tmp_path / "2.png")
    assert pool.idle[0] is not dead and pool.idle[0].process.pid != dead.process.pid


def test_a_worker_that_dies_during_a_preview_costs_that_preview_only(pool, picture, tmp_path):
    running = eventlet.spawn(pool.run, picture, "image", tmp_path / "1.png")
    while not pool.busy:  # the job is written; the new worker is still importing
        eventlet.sleep(0.01)
    (crashed,) = pool.busy
    crashed.process.kill()
    answer = running.wait()
    assert answer == {
        "state": "unavailable",
        "reason": "no preview could be drawn",
        "metadata": {},
    }
    assert crashed not in pool.idle
    assert _png(pool.run(picture, "image", tmp_path / "2.png"), tmp_path / "2.png")


def test_a_preview_that_takes_too_long_is_given_up_and_its_worker_killed(
    pool, picture, tmp_path, monkeypatch
):
    # A new worker takes far longer than this to import its decoders.
    monkeypatch.setattr(previewing, "PREVIEW_TIMEOUT_SECONDS", 0.05)
    running = eventlet.spawn(pool.run, picture, "image", tmp_path / "1.png")
    while not pool.busy:
        eventlet.sleep(0.005)
    (slow,) = pool.busy
    answer = running.wait()
    assert answer["state"] == "unavailable" and answer["reason"] == "the preview took too long"
    assert slow.process.returncode is not None and not pool.idle


def test_a_stopping_service_leaves_the_preview_pending(pool, picture, tmp_path):
    running = eventlet.spawn(pool.run, picture, "image", tmp_path / "1.png")
    while not pool.busy:
        eventlet.sleep(0.01)
    (worker,) = pool.busy
    pool.stop()
    with pytest.raises(PreviewStopped):
        running.wait()
    assert worker.process.returncode is not None
    with pytest.raises(PreviewStopped):
        pool.run(picture, "image", tmp_path / "2.png")


def test_a_worker_is_replaced_after_its_share_of_jobs(picture, tmp_path):
    pool = PreviewPool(jobs_per_worker=2)
    try:
        pool.run(picture, "image", tmp_path / "1.png")
        first = pool.idle[0]
        pool.run(picture, "image", tmp_path / "2.png")
        assert not pool.idle  # its input closed: it ends by itself
        assert first.process.wait() == 0
        pool.run(picture, "image", tmp_path / "3.png")
        assert pool.idle[0] is not first
    finally:
        pool.stop()


def test_the_worker_answers_a_line_per_job_and_keeps_its_stdout_for_answers(tmp_path, picture):
    """The protocol itself, as the service speaks it: JSON lines in, JSON lines out, nothing
    else on stdout even when a library prints."""
    jobs = "".join(
        json.dumps({"source": str(source), "kind": kind, "png": str(tmp_path / f"{n}.png")}) + "\n"
        for n, (source, kind) in enumerate([(picture, "image"), (tmp_path / "missing", "pdf")])
    )
    worker = previewing.PreviewWorker()
    out, _ = worker.process.communicate(jobs.encode(), timeout=120)
    answers = [json.loads(line) for line in out.decode().splitlines()]
    assert [answer["state"] for answer in answers] == ["ready", "unavailable"]
    assert worker.process.returncode == 0
