"""The events table's columns and the audit's page query (``EventStore.audit_page``), for SQLite
and PostgreSQL: one function writes both dialects, so the two stores' pages cannot drift apart."""

from __future__ import annotations

import json
from typing import Any

COLUMNS = "seq, stream, version, kind, actor, at_utc, data, prev_hash, hash, key_id, mac"


def _like(text: str) -> str:
    """A LIKE pattern (``ESCAPE '\\'``) that finds ``text`` literally anywhere: %, _ and \\ as typed."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def audit_sql(
    pg: bool,
    before: int | None = None,
    after: int | None = None,
    limit: int = 100,
    oldest_first: bool | None = None,
    stream: str | None = None,
    **match: Any,
) -> tuple[str, list]:
    """The query of :meth:`EventStore.audit_page` and its parameters, for SQLite or PostgreSQL.

    Keyset pages in seq order: ``after < seq < before``, newest first unless ``oldest_first``
    (by default: oldest first when only ``after`` is given), at most ``limit`` events. ``stream``
    keeps one stream's events (by the index on (stream, seq)). The rest is one filter field's:
    an event matches if ANY of those given matches (none given: every event): its stream is one
    of ``streams``, its kind one of ``kinds``, ``actor_like`` is in its actor, ``text_like`` in
    its data as stored (JSON: the text encoded as inside a JSON string, so a quote or a
    backslash is found as typed). The two texts are literal (% _ ' \\ are not patterns) and
    case-insensitive (SQLite: ASCII letters only). Without ``stream``, a text filter reads the
    range's events until ``limit`` match: bound the range (``before`` and ``after``) to bound it."""
    p = "%s" if pg else "?"
    where, params, any_of = ["1 = 1"], [], []
    for test, value in (("seq >", after), ("seq <", before), ("stream =", stream)):
        if value is not None:
            where.append(f"{test} {p}")
            params.append(value)
    for column in ("streams", "kinds"):
        values = match.get(column)
        if values:
            name = column[:-1]
            any_of.append(f"{name} = ANY({p})" if pg else f"{name} IN (SELECT value FROM json_each({p}))")
            params.append(list(values) if pg else json.dumps(list(values)))
    for column, text in (("actor", match.get("actor_like")), ("data", match.get("text_like"))):
        if text is not None:
            text = json.dumps(text, ensure_ascii=False)[1:-1] if column == "data" else text
            any_of.append(f"{column} {'ILIKE' if pg else 'LIKE'} {p} ESCAPE '\\'")
            params.append(_like(text))
    if any_of or any(match.get(k) is not None for k in ("streams", "kinds")):
        where.append(f"({' OR '.join(any_of) or '1 = 0'})")  # only empty lists given: nothing matches
    ascending = (after is not None and before is None) if oldest_first is None else oldest_first
    sql = f"SELECT {COLUMNS} FROM events WHERE {' AND '.join(where)} ORDER BY seq {'' if ascending else 'DESC'} LIMIT {p}"
    return sql, [*params, limit]
