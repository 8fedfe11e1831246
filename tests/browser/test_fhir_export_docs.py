"""docs/fhir.md's client-credentials bulk export, run exactly as the doc shows it.

The shell blocks after `<!-- client-keys -->` and `<!-- client-export -->` are read
from the doc and run with bash (set -euo pipefail) against the live clinic
(gunicorn) with a real worker taking the export task; the clinic's side (register
the client) is the doc's `neuroclinic smart register` line with a demo user as the
service account. Then every NDJSON file must have arrived, and every line be a
valid FHIR resource of its file's type (fhir.resources' R4B models, as the
server tests use). No browser is driven:
the live clinic is the browser suite's.
"""

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.conftest import BIN, ROOT, LiveClinic

pytestmark = pytest.mark.browser

DOC = ROOT / "docs" / "fhir.md"


def block_after(marker: str) -> str:
    """The ```sh block that follows `<!-- marker -->` in docs/fhir.md."""
    found = re.search(
        rf"<!-- {re.escape(marker)} -->\n```sh\n(.*?)\n```", DOC.read_text(), re.S
    )
    assert found, f"docs/fhir.md has no sh block after <!-- {marker} -->"
    return found.group(1)


def register_line() -> list[str]:
    found = re.search(r"^neuroclinic smart register .*$", DOC.read_text(), re.M)
    assert found, "docs/fhir.md no longer shows `neuroclinic smart register`"
    return found.group(0).replace("'", "").split()[1:]


def bash(script: str, cwd: Path, env: dict[str, str]) -> None:
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.fixture
def worker(live_clinic: LiveClinic) -> Iterator[None]:
    """The clinic's worker, as deployed beside the web server."""
    process = subprocess.Popen(
        [str(BIN / "neuroclinic"), "worker", "--queues", "bulk", "--no-schedule"],
        env=live_clinic.env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    yield
    process.terminate()
    process.wait(timeout=30)


def test_the_docs_client_credentials_export_runs_as_written(
    live_clinic: LiveClinic, worker: None, tmp_path: Path
) -> None:
    for tool in ("openssl", "curl", "jq"):
        assert shutil.which(tool), f"{tool} is needed to run the doc's commands"
    client_env = {"PATH": "/usr/bin:/bin", "FHIR": f"{live_clinic.url}/fhir"}
    bash(block_after("client-keys"), tmp_path, client_env)
    args = register_line()
    assert args[:3] == ["smart", "register", "registry"]
    args[args.index("--user") + 1] = "director"  # the demo's service account
    args[args.index("--public-key") + 1] = str(tmp_path / "registry.pub")
    assert "Registered registry" in live_clinic.manage(*args)

    bash(block_after("client-export"), tmp_path, client_env)

    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["requiresAccessToken"] is True
    expected = {o["type"]: 0 for o in manifest["output"]}
    for o in manifest["output"]:
        expected[o["type"]] += o["count"]
    # The demo clinic has these at least; a system export also carries Questionnaires.
    assert {"Patient", "Condition", "Observation", "QuestionnaireResponse"} <= set(
        expected
    )
    files = {p.stem: p for p in tmp_path.glob("*.ndjson")}
    assert set(files) == set(expected)
    checked = subprocess.run(
        [sys.executable, "-c", VALIDATE, *map(str, files.values())],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert checked.returncode == 0, checked.stdout[-2000:] + checked.stderr[-2000:]
    assert json.loads(checked.stdout) == expected


# Each line parsed as the R4B resource its file names (fhir.resources, pydantic), in a
# child process so the test's own Django set-up does not matter; prints the counts.
VALIDATE = """
import json, sys
from pathlib import Path
from fhir.resources.R4B import get_fhir_model_class
counts = {}
for name in sys.argv[1:]:
    path = Path(name)
    model = get_fhir_model_class(path.stem)
    for n, line in enumerate(path.read_text().splitlines(), 1):
        data = json.loads(line)
        assert data["resourceType"] == path.stem, (path.name, n)
        model.model_validate(data)
        counts[path.stem] = counts.get(path.stem, 0) + 1
print(json.dumps(counts))
"""
