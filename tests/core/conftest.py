"""Fixtures the core tests share."""

from __future__ import annotations

import pytest

from bedside.tui.dbcli import set_extra_anchors

from .test_tamper import PgLog


@pytest.fixture
def pglog(tmp_path, monkeypatch):
    """A PostgreSQL log with a terminal role and an owner (needs BEDSIDE_TEST_PG: see require_pg)."""
    set_extra_anchors([])
    log = PgLog(tmp_path, monkeypatch)
    yield log
    log.close()
