"""TMS adverse-event reports: the categories a report is filed under and its rules.

The kinds are the TMS adverse effects our sources name (docs/sources.md: seizure, T7; common side
effects at their severe end, T9; hearing risk without ear protection, T11 [P]; a
possible manic or hypomanic switch, T9 [S], T11 [P]) plus syncope (a screening topic,
T6) and a scalp burn (a coil or electrode injury). The report's fields (severity,
seriousness, onset, action taken, outcome, a physician's review of causality) are our
design [D], shaped on the usual adverse-event report; the seriousness criteria are the
ones the usual serious-adverse-event definition lists (death, life-threatening,
hospitalisation, lasting disability, medically important event), unverified here [U]:
the clinic's medical director decides what its reports mean.

Rules (pure, table-tested): a serious report names at least one criterion and a report
naming one is serious; "other" needs a description; a fatal outcome makes the report
serious with "death"; the onset is not in the future.

Pure module: standard library only.
"""

from datetime import datetime

KIND_CHOICES = [
    ("seizure", "Seizure"),
    ("syncope", "Syncope (fainting)"),
    ("severe_headache", "Severe headache"),
    ("scalp_burn", "Scalp burn"),
    ("hearing_change", "Hearing change or tinnitus"),
    ("manic_switch", "Mania or hypomania switch"),
    ("other", "Other"),
]
SEVERITY_CHOICES = [
    ("mild", "Mild"),
    ("moderate", "Moderate"),
    ("severe", "Severe"),
]
SERIOUSNESS_CHOICES = [
    ("death", "Resulted in death"),
    ("life_threatening", "Life-threatening"),
    ("hospitalisation", "Hospitalisation or longer stay"),
    ("disability", "Lasting disability or incapacity"),
    ("medically_important", "Medically important event"),
]
SERIOUSNESS_LABELS = dict(SERIOUSNESS_CHOICES)
ACTION_CHOICES = [
    ("none", "None"),
    ("intensity_reduced", "Intensity reduced"),
    ("session_stopped", "Session stopped"),
    ("course_held", "Course held for review"),
    ("course_stopped", "Course stopped"),
    ("treated", "Treated in the clinic"),
    ("emergency_transfer", "Transferred to emergency care"),
]
OUTCOME_CHOICES = [
    ("recovered", "Recovered"),
    ("recovering", "Recovering"),
    ("not_recovered", "Not recovered"),
    ("recovered_with_sequelae", "Recovered with lasting effects"),
    ("fatal", "Fatal"),
    ("unknown", "Unknown"),
]
CAUSALITY_CHOICES = [
    ("related", "Related to TMS"),
    ("possibly_related", "Possibly related"),
    ("unlikely_related", "Unlikely related"),
    ("not_related", "Not related"),
]


def _codes(choices: list[tuple[str, str]]) -> set[str]:
    return {code for code, _ in choices}


def check_report(
    *,
    kind: str,
    description: str,
    severity: str,
    serious: bool,
    seriousness: list[str],
    onset_at: datetime | None,
    action_taken: str,
    outcome: str,
    now: datetime,
) -> dict[str, str]:
    """Field -> message for each problem with a report; {} when it may be filed."""
    errors: dict[str, str] = {}
    if kind not in _codes(KIND_CHOICES):
        errors["kind"] = "Choose the kind of adverse event."
    elif kind == "other" and not description.strip():
        errors["description"] = "Describe the adverse event."
    if severity not in _codes(SEVERITY_CHOICES):
        errors["severity"] = "Choose how severe it is."
    unknown = [c for c in seriousness if c not in SERIOUSNESS_LABELS]
    if unknown:
        errors["seriousness"] = f"Unknown seriousness criterion: {unknown[0]}."
    elif len(set(seriousness)) != len(seriousness):
        errors["seriousness"] = "Name each seriousness criterion once."
    elif serious and not seriousness:
        errors["seriousness"] = "A serious adverse event names why it is serious."
    elif seriousness and not serious:
        errors["serious"] = (
            "A report with a seriousness criterion is a serious adverse event."
        )
    if outcome == "fatal" and "death" not in seriousness:
        errors.setdefault(
            "seriousness", "A fatal outcome is serious: tick 'Resulted in death'."
        )
    if onset_at is None:
        errors["onset_at"] = "Say when it began."
    elif onset_at > now:
        errors["onset_at"] = "The onset cannot be in the future."
    if action_taken not in _codes(ACTION_CHOICES):
        errors["action_taken"] = "Choose the action taken."
    if outcome not in _codes(OUTCOME_CHOICES):
        errors["outcome"] = "Choose the outcome."
    return errors
