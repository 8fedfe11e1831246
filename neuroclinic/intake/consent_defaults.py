"""Starting text for each consent form, offered when a clinic publishes its first version.

A starting point for the clinic and its lawyer, not legal advice. The clinical
statements follow K1, K3, K4, K5, K8, K11, K16, K18, K20, K22 (IV ketamine) and
T1, T2, T3, T7, T9, T10, T11 (TMS) (docs/sources.md); the clinic edits every
word before publishing.
"""

KETAMINE = """
## What this treatment is

Ketamine is a medicine approved by the FDA as an anaesthetic. Giving it by slow intravenous
(IV) infusion at low doses to treat depression is **off-label**: the FDA has not approved IV
ketamine for depression. A related medicine, esketamine nasal spray, is FDA-approved for
treatment-resistant depression.

## What to expect

- A typical dose is 0.5 mg per kg of body weight over about 40 minutes. The prescriber may adjust it.
- A course usually starts with about six infusions over two to three weeks, then occasional
  booster infusions if they help.
- Your blood pressure, heart rate and oxygen level are checked before, during and after each infusion.

## Benefits and limits

Many people with treatment-resistant depression improve, sometimes within hours, but not
everyone does, and the benefit of a single infusion often fades within days to weeks.
**No cure is promised.**

## Risks and side effects

Common and usually short-lived: feeling detached or dreamlike (dissociation), nausea, headache,
dizziness, blurred vision, anxiety, and a rise in blood pressure and heart rate. Less common:
vomiting, confusion, agitation, breathing problems. Long-term frequent non-medical use of
ketamine is linked to bladder damage, memory problems and dependence.

## What I agree to

- Not to eat for 6 hours or drink clear liquids for 2 hours before each infusion.
- To have an adult take me home, and not to drive or make important decisions until the next day.
- To tell the clinic about all my medicines, alcohol and drug use, and any pregnancy.
- That I may stop treatment at any time.

I have read this form, I have been able to ask questions, and I agree to IV ketamine treatment.
"""

TMS = """
## What this treatment is

Transcranial magnetic stimulation (TMS) uses a magnetic coil held against the scalp to
stimulate the part of the brain involved in mood. TMS is FDA-cleared for major depressive
disorder.

## What to expect

- First, a session to find the right strength (your motor threshold).
- Then sessions on weekdays for four to six weeks: standard sessions take about 37 minutes;
  theta-burst sessions about 3 minutes.
- You stay awake and can drive yourself home.

## Benefits and limits

Many people improve over several weeks; not everyone does. **No cure is promised.**

## Risks and side effects

Scalp discomfort and headache are common, especially in the first week. Facial twitching
during sessions. Ear protection is needed. Seizures are rare (about 3 per 100,000 sessions).
Mania can occur in people with bipolar disorder.

## What I agree to

- To tell the clinic before each session about new medicines, poor sleep, alcohol or drug use.
- To remove metal objects near my head and wear ear protection.
- That I may stop treatment at any time.

I have read this form, I have been able to ask questions, and I agree to TMS treatment.
"""

PRIVACY = """
The clinic keeps your health information private and uses it to treat you, to get paid for
your care, and to run the clinic, as the law allows (HIPAA). You may ask for a copy of your
record, ask us to correct it, ask who we have shared it with, and ask us to limit how we share
it. With your permission we share information with your referring provider and therapist.
Every access to your record is logged.

I acknowledge that I have received the clinic's Notice of Privacy Practices.
"""

FINANCIAL = """
Prices for the consultation, each infusion or TMS session, and boosters are set out in the
clinic's written estimate. IV ketamine for depression is off-label and often not covered by
insurance. Payment is due at the time of each visit unless agreed otherwise. Appointments
cancelled with less than 24 hours' notice may be charged.

I have read and accept the financial policy.
"""

COMMUNICATION = """
The clinic may contact me by phone, text message and email about appointments, forms and
questionnaires. Messages carry a link and the clinic's name, never details of my treatment.
I can change these preferences at any time by telling the clinic.

I agree to be contacted as described.
"""

DEFAULTS: dict[str, tuple[str, str]] = {
    "ketamine": ("Consent to IV ketamine treatment (off-label)", KETAMINE.strip()),
    "tms": ("Consent to TMS treatment", TMS.strip()),
    "privacy": ("Notice of privacy practices: acknowledgement", PRIVACY.strip()),
    "financial": ("Financial policy", FINANCIAL.strip()),
    "communication": ("Communication preferences", COMMUNICATION.strip()),
}
