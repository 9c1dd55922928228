"""The audit's pages (``audit_page``): keyset order, limit and each filter, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from bedside.core.events import NewEvent

from .test_store_contract import T0, Backend, PgDatabase, require_pg


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path):
    db = PgDatabase(require_pg()) if request.param == "postgres" else None
    b = Backend(request.param, db.url if db else str(tmp_path / "page.db"), db)
    s = b.open()
    rows = [
        ("patient-a", "patient.registered", "nina", {"mrn": "MRN-1", "name": "Ann"}),
        ("users", "user.signed_in", "noah", {}),
        ("patient-b", "vitals.recorded", "phil", {"note": "100% of 50_x"}),
        ("patient-a", "dose.given", "Nina", {"note": "O'Brien said C:\\temp"}),
        ("patient-b", "dose.given", "priya", {"note": "plain"}),
    ]
    for stream, kind, actor, data in rows:
        s.append(stream, s.stream_version(stream), [NewEvent(stream, kind, actor, T0, data)])
    yield s
    b.close()
    if db is not None:
        db.drop()


def seqs(events) -> list[int]:
    return [e.seq for e in events]


def test_keyset_pages_in_seq_order_both_ways(store):
    assert store.last_seq() == 5 and store.stream_version("patient-a") == 2
    assert seqs(store.audit_page(limit=2)) == [5, 4]
    assert seqs(store.audit_page(before=4, limit=2)) == [3, 2]
    assert seqs(store.audit_page(before=2, limit=2)) == [1]
    assert seqs(store.audit_page(after=0, limit=3)) == [1, 2, 3]
    assert seqs(store.audit_page(after=3, limit=3)) == [4, 5]
    assert seqs(store.audit_page(after=1, before=5, limit=9)) == [4, 3, 2]
    assert seqs(store.audit_page(after=1, before=5, limit=9, oldest_first=True)) == [2, 3, 4]


def test_each_filter_and_their_or(store):
    assert seqs(store.audit_page(stream="patient-a")) == [4, 1]
    assert seqs(store.audit_page(streams=["patient-b"])) == [5, 3]
    assert seqs(store.audit_page(kinds=["dose.given"])) == [5, 4]
    assert seqs(store.audit_page(actor_like="NIN")) == [4, 1]  # case-insensitive
    assert seqs(store.audit_page(text_like="ann")) == [1]
    assert seqs(store.audit_page(kinds=["user.signed_in"], text_like="plain")) == [5, 2]  # any one is enough
    assert seqs(store.audit_page(stream="patient-b", kinds=["dose.given"], actor_like="phil")) == [5, 3]
    assert seqs(store.audit_page(stream="patient-a", kinds=["vitals.recorded"])) == []  # the stream is AND


def test_a_filter_that_matches_nothing(store):
    assert store.audit_page(text_like="zzz", actor_like="zzz") == []
    assert store.audit_page(kinds=[], streams=[]) == []  # empty lists: nothing, not everything
    assert store.audit_page(stream="patient-none") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [("%", [3]), ("_", [3]), ("100%", [3]), ("50_x", [3]), ("0_x", [3]), ("5%", []), ("'", [4]), ("O'Brien", [4]),
     ("C:\\temp", [4]), ("\\", [4]), ("%_", [])],
)  # fmt: skip
def test_sql_special_characters_are_taken_literally(store, text, expected):
    assert seqs(store.audit_page(text_like=text)) == expected
    assert store.audit_page(actor_like=text) == []
