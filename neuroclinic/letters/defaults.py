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

CONSULT = """{{ today }}

Dear {{ recipient_name }},

**Re: {{ patient_name }}, date of birth {{ patient_birth_date }}**

Thank you for referring your patient to {{ clinic_name }}. I saw them in consultation to assess whether
intravenous ketamine or TMS is suitable for their depression.

Their PHQ-9 total at assessment was {{ phq9_baseline }}. I will write again when treatment is planned,
and at the end of any series with the scores measured along the way.

Please tell us about any change in their medication, and contact us with any questions or concerns.

Sincerely,

{{ prescriber_name }}
{{ clinic_name }}
"""

THERAPIST = """{{ today }}

Dear {{ recipient_name }},

**Re: {{ patient_name }}, date of birth {{ patient_birth_date }}**

Your client has had {{ sessions_completed }} intravenous ketamine infusions at {{ clinic_name }}, the last on
{{ last_session_date }}. Their latest PHQ-9 total is {{ phq9_latest }} (before the series: {{ phq9_baseline }}).

The days after an infusion, and the following one to two weeks, are when some patients find therapy
easier to engage with; sessions in this window may help them hold on to any change. This is an
observation from practice, not a promise of benefit.

Please contact us if you have concerns about their safety or their mood.

Sincerely,

{{ prescriber_name }}
{{ clinic_name }}
"""

BOOSTER = """{{ today }}

Dear {{ recipient_name }},

**Re: {{ patient_name }}, date of birth {{ patient_birth_date }}**

I am writing to let you know of a change in your patient's treatment at {{ clinic_name }}. After
{{ sessions_completed }} infusions (the last on {{ last_session_date }}), their PHQ-9 total is
{{ phq9_latest }}, against {{ phq9_baseline }} before the series.

We have discussed with them a booster infusion or a change of course, decided case by case because the
evidence for maintenance treatment is limited. I will write again with the outcome.

Sincerely,

{{ prescriber_name }}
{{ clinic_name }}
"""

TMS_COURSE = """{{ today }}

Dear {{ recipient_name }},

**Re: {{ patient_name }}, date of birth {{ patient_birth_date }}**

Your patient has completed a course of transcranial magnetic stimulation (TMS) at {{ clinic_name }}:
{{ tms_protocol }}, {{ tms_sessions_completed }} sessions, from {{ tms_first_session_date }} to
{{ tms_last_session_date }}.

The scores measured over the course, each instrument on its own (a change is always between two scores of
the same instrument):

{{ course_scores }}

Response is a fall of 50% or more; remission is a total at or under the instrument's threshold (PHQ-9 4,
QIDS-SR16 5, MADRS 10, HAM-D17 7); neither is defined for the other instruments.

Side effects recorded: {{ tms_side_effects }}.

We will keep measuring symptoms and will discuss further sessions with the patient if their scores rise.

Sincerely,

{{ prescriber_name }}
{{ clinic_name }}
"""

CONCERNS = """{{ today }}

Dear {{ recipient_name }},

**Re: {{ patient_name }}, date of birth {{ patient_birth_date }}**

Thank you for sharing your concerns about intravenous ketamine for your patient. What the evidence says,
as plainly as we can put it:

- Ketamine for depression is off-label. Expert groups place it as a treatment for depression that has
  not responded to other treatments, and the evidence for repeated or maintenance courses is weak
  (Swainson et al., Can J Psychiatry 2021; Sanacora et al., JAMA Psychiatry 2017).
- In trials of up to six infusions, about half the patients responded, and benefit often faded within
  weeks (Murrough et al., Biol Psychiatry 2013). Ketamine is not a cure and we do not promise one.
- Side effects are common and mostly brief: dissociation, raised blood pressure, nausea, headache
  (Short et al., Lancet Psychiatry 2018). We monitor blood pressure and breathing throughout each
  infusion, and we measure symptoms before every infusion so that treatment stops if it is not helping.

We would value your view and will keep you informed of the scores we measure.

Sincerely,

{{ prescriber_name }}
{{ clinic_name }}
"""

# The clearance request that used to be a fixed PDF in intake (issue 12: folded into
# letters). Its question and reasons come from the signed eligibility decision.
CLEARANCE = """{{ today }}

Dear {{ recipient_name }},

**Re: {{ patient_name }}, date of birth {{ patient_birth_date }}**

Your patient has asked us about treatment for depression at {{ clinic_name }}. Before we can go ahead, we
would be grateful for your opinion:

**{{ clearance_question }}**

What we found in the patient's intake: {{ clearance_reasons }}.

IV ketamine for depression is used off-label at sub-anaesthetic doses (typically 0.5 mg/kg over about
40 minutes) with continuous monitoring of blood pressure, heart rate and oxygen saturation. Blood pressure
commonly rises during the infusion and returns to baseline afterwards.

The patient has agreed that we may contact you. Thank you for your help.

Sincerely,

{{ prescriber_name }}
{{ clinic_name }}

---

**Reply** (please fax or email back): [ ] No objection to treatment · [ ] Treatment with these
precautions: ______________________ · [ ] Not advised

Name, signature and date: ______________________________
"""
