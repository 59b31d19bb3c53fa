"""Fixtures every test session can use (see tests/support/fixtures.py)."""

pytest_plugins = ["tests.support.fixtures"]
