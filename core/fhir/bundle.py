"""The Bundle: every resource of one patient's export, in a fixed order."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any

from .. import preparation as prep
from .. import schedule as sch
from ..events import Event
from ..intake import Patient
from ..records.source import Names, Source, record_date
from .administration import administration
from .condition import condition
from .context import Context
from .observations import labs, vitals
from .requests import patient_resource, request
from .values import FhirOptions, instant, resource_id

if TYPE_CHECKING:
    from ..projection import PatientView


def bundle(
    patient: Patient,
    events: Sequence[Event],
    users: Names,
    *,
    now: datetime,
    tz: tzinfo = UTC,
    options: FhirOptions | None = None,
) -> dict[str, Any]:
    """A FHIR R4 Bundle of ``patient``'s treatment, as a JSON-ready dict: type ``collection`` unless
    ``options`` asks for a ``transaction`` (:class:`FhirOptions`, which also carries the site's codes).

    ``events`` are the patient's stream; ``users`` maps a user name to (full name, role); ``now``
    (aware) is the bundle's timestamp and the moment infusion states are computed at; ``tz`` is
    the site's zone, which decides today's local date for the schedule (CONV-TIME-1).
    ``options`` (default: a collection, no site codes) also carries the site's identifier system
    for MRNs and its RxNorm code, when it has them.
    """
    src = Source(patient, events, users, record_date(now, tz))
    return _bundle(Context(src, now, tz, options or FhirOptions()))


def bundle_for(view: PatientView, *, now: datetime, tz: tzinfo = UTC, options: FhirOptions | None = None) -> dict[str, Any]:
    """:func:`bundle` of the patient's projection (``ledger.view(pid)``): its events, its users,
    its timeline and preparations (folded once, shared with the screens)."""
    src = Source.of_view(view, record_date(now, tz))
    return _bundle(Context(src, now, tz, options or FhirOptions()))


def _bundle(ctx: Context) -> dict[str, Any]:
    tl = ctx.src.timeline
    requests = [request(ctx, d, tl) for d in tl.doses()]
    administrations: list[dict[str, Any]] = []
    adverse: list[dict[str, Any]] = []
    ma_by_dose: dict[str, str] = {}
    for d in tl.doses():
        if d.state != sch.GIVEN:
            continue
        ma, aes, _mon = administration(ctx, d)
        administrations.append(ma)
        adverse.extend(aes)
        ma_by_dose[prep.dose_id(d.cycle, d.day)] = ma["id"]
    lab_obs = labs(ctx)
    vital_obs = vitals(ctx, ma_by_dose)
    diagnosis = condition(ctx)
    resources = [
        patient_resource(ctx),
        *([diagnosis] if diagnosis else []),
        *ctx.people_resources(),
        *requests,
        *administrations,
        *lab_obs,
        *vital_obs,
        *adverse,
    ]
    last = ctx.events[-1].version if ctx.events else 0
    bid = resource_id(ctx.stream, last, "bundle")
    return {
        "resourceType": "Bundle",
        "id": bid,
        "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{bid}"},
        "type": "transaction" if ctx.options.transaction else "collection",
        "timestamp": instant(ctx.now),
        "entry": [_entry(r, ctx.options.transaction) for r in resources],
    }


def _entry(resource: dict[str, Any], transaction: bool) -> dict[str, Any]:
    """One entry. In a transaction each resource is a PUT of its own (stable) id: the server keeps
    that id, so exporting the same record again updates, never duplicates. References stay
    ``urn:uuid:`` fullUrls, which the server resolves within the transaction."""
    entry: dict[str, Any] = {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}
    if transaction:
        entry["request"] = {"method": "PUT", "url": f"{resource['resourceType']}/{resource['id']}"}
    return entry
