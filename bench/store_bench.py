"""Event store figures: appends per second, and reading one patient with 10,000 events.

    .venv/bin/python bench/store_bench.py                       # SQLite only
    .venv/bin/python bench/store_bench.py --pg postgresql://…   # and PostgreSQL (a scratch schema)

SQLite runs as the app runs it (WAL, synchronous=FULL, BEGIN IMMEDIATE, fsync per append), with
and without its anchor file (which costs one more fsync and rename per append). PostgreSQL runs in
a scratch schema that is dropped afterwards (needs CREATE on the database). Each append is one
event in its own committed transaction, the app's way. Times are medians.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bedside.core.events import NewEvent
from bedside.core.store import SqliteStore

T0 = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
DATA = {"bp": [118, 76], "hr": 72, "spo2": 98, "temp_c": 36.8, "note": "no reaction; patient comfortable", "by": "nina"}


def ev(stream: str, i: int) -> NewEvent:
    return NewEvent(stream, "vitals.recorded", "nina", T0 + timedelta(seconds=i), {**DATA, "i": i})


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def bench_appends(store, n: int) -> float:
    """Appends per second, one event per append (each committed before the next)."""
    v = store.stream_version("patient:append")
    t = time.perf_counter()
    for i in range(n):
        store.append("patient:append", v + i, [ev("patient:append", i)])
    return n / (time.perf_counter() - t)


def fill(store, per_patient: int, others: int, batch: int = 100) -> None:
    """``per_patient`` events for patient:x, interleaved (in batches) with ``others`` for other patients."""
    done_x = done_o = 0
    k = 0
    while done_x < per_patient or done_o < others:
        if done_x < per_patient:
            n = min(batch, per_patient - done_x)
            store.append("patient:x", done_x, [ev("patient:x", done_x + j) for j in range(n)])
            done_x += n
        if done_o < others:
            stream = f"patient:o{k % 50}"
            n = min(batch, others - done_o)
            store.append(stream, store.stream_version(stream), [ev(stream, done_o + j) for j in range(n)])
            done_o += n
            k += 1


def bench_reads(store, repeat: int) -> dict[str, float]:
    last = store.last_seq()
    return {
        "read one patient (10,000 events)": median_time(lambda: store.read("patient:x"), repeat),
        "read the whole log": median_time(lambda: store.read(), repeat),
        "poll: change_token()": median_time(lambda: store.change_token(), 200),
        "poll: read(after_seq=last)": median_time(lambda: store.read(after_seq=last), 200),
    }


def report(name: str, appends: dict[str, float], reads: dict[str, float]) -> None:
    print(f"\n{name}")
    for label, rate in appends.items():
        print(f"  {label:<36} {rate:10.0f} appends/s  ({1000 / rate:.2f} ms each)")
    for label, secs in reads.items():
        print(f"  {label:<36} {secs * 1000:10.3f} ms")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pg", metavar="URL", help="a PostgreSQL server to measure too (a scratch schema is made and dropped)")
    p.add_argument("--appends", type=int, default=1000, help="appends to time (default 1000)")
    p.add_argument("--patient-events", type=int, default=10_000, help="events of the patient read back (default 10000)")
    p.add_argument("--other-events", type=int, default=10_000, help="events of other patients in the log (default 10000)")
    p.add_argument("--repeat", type=int, default=7, help="repeats of each read (median; default 7)")
    p.add_argument("--dir", type=Path, default=None, help="where the SQLite files go (default: a temporary directory)")
    args = p.parse_args(argv)
    print(
        f"Python {sys.version.split()[0]}; {args.appends} appends; patient:x {args.patient_events} events"
        f" among {args.other_events} others"
    )

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        appends = {}
        s = SqliteStore(Path(tmp) / "bench.db")
        appends["append, anchor file (as the app)"] = bench_appends(s, args.appends)
        s.close()
        s = SqliteStore(Path(tmp) / "bench-noanchor.db", anchor=False)
        appends["append, no anchor file"] = bench_appends(s, args.appends)
        s.close()
        s = SqliteStore(Path(tmp) / "read.db", anchor=False)
        fill(s, args.patient_events, args.other_events)
        s.close()
        s = SqliteStore(Path(tmp) / "read.db", anchor=False)
        assert len(s.read("patient:x")) == args.patient_events
        report("SQLite (apsw, WAL, synchronous=FULL)", appends, bench_reads(s, args.repeat))
        s.close()

    if args.pg:
        import psycopg

        from bedside.core.pgstore import PgStore

        schema = f"bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(args.pg, autocommit=True) as admin:
            admin.execute(f"CREATE SCHEMA {schema}")
            try:
                url = f"{args.pg}{'&' if '?' in args.pg else '?'}options=-csearch_path%3D{schema}"
                s = PgStore(url)
                (sc,) = s.conn.execute("SHOW synchronous_commit").fetchone()
                (fs,) = s.conn.execute("SHOW fsync").fetchone()
                (ver,) = s.conn.execute("SHOW server_version").fetchone()
                appends = {"append (advisory lock, one tx)": bench_appends(s, args.appends)}
                fill(s, args.patient_events, args.other_events)
                s.conn.execute("ANALYZE events")
                s.close()
                s = PgStore(url)
                assert len(s.read("patient:x")) == args.patient_events
                report(
                    f"PostgreSQL {ver} (psycopg {psycopg.__version__}; synchronous_commit={sc}, fsync={fs})",
                    appends,
                    bench_reads(s, args.repeat),
                )
                s.close()
            finally:
                admin.execute(f"DROP SCHEMA {schema} CASCADE")
    return 0


if __name__ == "__main__":
    sys.exit(main())
