"""De-identification for the research export, by the HIPAA Safe Harbor method.

Source: P8 (docs/sources.md), 45 CFR 164.514(b)(2). Safe Harbor removes 18 kinds of
identifier of the patient and of relatives, employers and household members: names;
geography smaller than a state (3-digit ZIP only under conditions); every date
element except the year (birth, admission, discharge, death, service), and all ages
over 89 and any date element showing such an age, grouped as 90 or older; phone and
fax numbers; email; Social Security, medical record, health-plan, account,
certificate or licence numbers; vehicle and device identifiers and serial numbers;
URLs and IP addresses; biometric identifiers; full-face photographs; and any other
unique identifying number, characteristic or code.

How this export meets it (decided in docs/decisions.md): it is built from an allow-list
of coded fields, never from the chart minus a deny-list. No free text is exported
(an indication is reduced to its ICD-10 code). Dates become whole days relative to the
patient's first infusion, plus the year of that infusion; the year is withheld when
the patient is 90 or older. The research id is an HMAC of the patient's internal row
number under a secret key: it links rows of one export and cannot be reversed without
the key. 164.514(c) asks that a re-identification code not be derived from information
about the individual; the row number is none of the 18 identifiers, but a random code
per patient kept in a table would meet it more plainly (docs/decisions.md).

Pure module: standard library only.
"""

import hashlib
import hmac
import re
from datetime import date

AGE_TOP_CODE = 90  # ages over 89 are grouped as "90+"
ICD10_PATTERN = re.compile(r"\b([A-TV-Z][0-9][0-9AB](?:\.[0-9A-TV-Z]{1,4})?)\b")


def research_id(patient_key: str, *, secret: bytes) -> str:
    """A stable, non-reversible id for one patient in one clinic's exports."""
    digest = hmac.new(secret, f"research-id:{patient_key}".encode(), hashlib.sha256)
    return digest.hexdigest()[:16]


def age_in_years(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def age_group(birth: date, on: date) -> str:
    """The age at `on` as a number, or "90+" for ages over 89."""
    age = age_in_years(birth, on)
    return f"{AGE_TOP_CODE}+" if age >= AGE_TOP_CODE else str(age)


def year_or_none(on: date, birth: date) -> int | None:
    """The year of `on`, withheld when it would reveal an age over 89."""
    return None if age_in_years(birth, on) >= AGE_TOP_CODE else on.year


def relative_day(on: date, anchor: date) -> int:
    """Whole days from the patient's anchor date (their first infusion)."""
    return (on - anchor).days


def icd10_codes(text: str) -> str:
    """Only the ICD-10 codes found in a free-text field, space-separated; the text is dropped."""
    return " ".join(dict.fromkeys(ICD10_PATTERN.findall(text.upper())))
