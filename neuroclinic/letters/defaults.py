"""The default end-of-series letter to the referring provider (the clinic edits it).

Honest wording: it reports what was measured and makes no promise; response is a
50% fall in PHQ-9 and remission a total of 4 or less (Source: M17, K21),
computed by `neuroclinic.measures.outcomes`.
"""

END_OF_SERIES = """{{ today }}

Dear {{ recipient_name }},

**Re: {{ patient_name }}, date of birth {{ patient_birth_date }}**

Thank you for referring your patient to {{ clinic_name }}. They have completed an induction series of
{{ sessions_completed }} intravenous ketamine infusions, from {{ first_session_date }} to {{ last_session_date }}.

| Measure | Before the series | Latest |
|---|---|---|
| PHQ-9 total | {{ phq9_baseline }} | {{ phq9_latest }} |

Change from baseline: {{ phq9_change_percent }}%. Response (a fall of 50% or more): {{ response }}.
Remission (PHQ-9 of 4 or less): {{ remission }}.

Adverse events during the series: {{ adverse_events }}.

Benefit after a series often fades over weeks; we will keep measuring symptoms and will discuss booster
infusions with the patient if their scores rise. Please contact us with any questions or concerns.

Sincerely,

{{ prescriber_name }}
{{ clinic_name }}
"""
