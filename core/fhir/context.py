"""What every resource of one export shares: the patient's record, the subject, and the people
(a Practitioner and a PractitionerRole per user involved, made on first reference)."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from .. import schedule as sch
from ..records.source import Source
from .values import PRACTITIONER_ROLE, ROLE_CODES, FhirOptions, medication, ref, resource_id


class Context:
    def __init__(self, src: Source, now: datetime, tz: tzinfo, options: FhirOptions):
        self.src = src
        self.p = src.patient
        self.events = src.events
        self.users = src.names
        self.now = now
        self.tz = tz
        self.options = options
        self.medication = medication(options)
        self.voided = sch.voided_versions(self.events)  # schedule entries recorded in error
        self.stream = self.p.stream
        self.people: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
        reg = self.p.history("identity")
        self.patient_id = resource_id(self.stream, reg[0].version if reg else 0)
        self.subject = ref(self.patient_id, self.p.name or None)

    def _people_of(self, username: str) -> tuple[dict[str, Any], dict[str, Any]]:
        full, role = self.users.get(username, ("", ""))
        pr_id = resource_id("user", username)
        practitioner: dict[str, Any] = {
            "resourceType": "Practitioner",
            "id": pr_id,
            "identifier": [{"type": {"text": "Bedside user name"}, "value": username}],
        }
        if full:
            practitioner["name"] = [{"text": full}]
        role_res: dict[str, Any] = {
            "resourceType": "PractitionerRole",
            "id": resource_id("user", username, "role", role),
            "practitioner": ref(pr_id, full or username),
        }
        if role:
            code: dict[str, Any] = {"text": role}
            if role in ROLE_CODES:
                code["coding"] = [{"system": PRACTITIONER_ROLE, "code": ROLE_CODES[role]}]
            role_res["code"] = [code]
        return practitioner, role_res

    def person(self, username: str) -> dict[str, Any]:
        """A reference to the user's PractitionerRole (created with its Practitioner on first use)."""
        if username not in self.people:
            self.people[username] = self._people_of(username)
        full, role = self.users.get(username, (username, ""))
        return ref(self.people[username][1]["id"], f"{full} ({role})" if role else full)

    def practitioner(self, username: str) -> dict[str, Any]:
        self.person(username)
        full = self.users.get(username, (username, ""))[0]
        return ref(self.people[username][0]["id"], full or username)

    def people_resources(self) -> list[dict[str, Any]]:
        return [res for pair in sorted(self.people.items()) for res in pair[1]]
