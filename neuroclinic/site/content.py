"""Default wording for the clinic's public pages and FAQ, with the sources it rests on.

The clinic edits every page in the staff UI; until it does, these are shown.
The wording states what the evidence supports and promises no cure. The full
references are on the treatments page (`SOURCES_MD`); in docs/sources.md they
are K3, K4, K5, K7, K11, K13, K14, K16, K18, K20, K26, K26b (ketamine) and T1, T2, T6,
T7 (TMS).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class PageDefault:
    title: str
    meta_description: str
    body: str


@dataclass(frozen=True)
class FaqDefault:
    question: str
    answer: str


SOURCES_MD = """
## Sources

- Murrough JW et al. Rapid and longer-term antidepressant effects of repeated ketamine infusions in treatment-resistant depression. *Biol Psychiatry* 2013;74:250-256.
- Singh JB et al. A double-blind, randomized, placebo-controlled, dose-frequency study of intravenous ketamine in treatment-resistant depression (twice- vs thrice-weekly). *Am J Psychiatry* 2016.
- Swainson J et al. CANMAT Task Force recommendations for the use of racemic ketamine in adults with major depressive disorder. *Can J Psychiatry* 2021;66:113-125.
- Andrade C. Ketamine for depression, 4: in what dose, at what rate, by what route, for how long, and at what frequency? *J Clin Psychiatry* 2017;78:e852-e857.
- Short B et al. Side-effects associated with ketamine use in depression: a systematic review. *Lancet Psychiatry* 2018.
- Blood-pressure studies of ketamine infusions for depression: 684 infusions (*J Affect Disord* 2018); 2,342 infusions at Yale (*Gen Hosp Psychiatry* 2024).
- KETALAR (ketamine hydrochloride) prescribing information; SPRAVATO (esketamine) prescribing information.
- Wilkinson ST et al. Cognitive behavior therapy may sustain antidepressant effects of intravenous ketamine in treatment-resistant depression. *Psychother Psychosom* 2017;86:162-167 (open-label, 16 people).
- Wilkinson ST et al. Cognitive behavioral therapy to sustain the antidepressant effects of ketamine in treatment-resistant depression: a randomized clinical trial. *Psychother Psychosom* 2021;90(5):318 (28 people randomised).
- Perera T et al. The Clinical TMS Society consensus review and treatment recommendations for TMS therapy for major depressive disorder. *Brain Stimul* 2016.
- Blumberger DM et al. Effectiveness of theta burst versus high-frequency rTMS in depression (THREE-D). *Lancet* 2018.
- Seizure risk with rTMS: Clinical TMS Society survey of 586,656 sessions. *Brain Stimulation* 2021.
- Rossi S et al. Safety and recommendations for TMS use (IFCN guidelines), 2009 and 2021.
"""

PAGES: dict[str, PageDefault] = {
    "home": PageDefault(
        title="Ketamine infusion and TMS for depression",
        meta_description=(
            "IV ketamine infusion and TMS for depression that has not responded to other "
            "treatment: what the evidence shows, what to expect, and how to ask for a consultation."
        ),
        body="""
When depression has not lifted after other treatments, there are still options. We offer
**intravenous (IV) ketamine infusions** and **transcranial magnetic stimulation (TMS)**, each
with careful screening, monitoring and honest follow-up of how you are doing.

Neither treatment is a cure, and neither works for everyone. Many people feel some benefit;
some feel a great deal; some feel none. We measure how you are doing with standard
questionnaires before and throughout treatment, so that you and we can see what is helping.

### How it works here

1. **Ask for a consultation.** Tell us a little about yourself. We reply within one working day.
2. **Intake and review.** You fill in forms on your phone; a prescriber reviews your history
   and tells you whether treatment is a safe and sensible choice for you.
3. **A course of treatment**, then follow-up and, if it helps, occasional "booster" sessions.

Not sure if you are depressed? Take our [two-minute self-check](/self-check/). It is
anonymous, and nothing is stored unless you choose to send it with a request.
""",
    ),
    "conditions": PageDefault(
        title="Conditions we treat",
        meta_description=(
            "Depression, including treatment-resistant depression, and how anxiety, PTSD and "
            "OCD fit in: the common signs and where ketamine and TMS have evidence."
        ),
        body="""
## Depression

Depression is more than sadness. Common signs, over at least two weeks, include:

- little interest or pleasure in doing things;
- feeling down, depressed or hopeless;
- trouble sleeping, or sleeping too much;
- feeling tired or having little energy;
- poor appetite or overeating;
- feeling bad about yourself, or that you have let yourself or others down;
- trouble concentrating;
- moving or speaking slowly, or being restless;
- thoughts that you would be better off dead, or of hurting yourself.

These are the nine questions of the PHQ-9, a questionnaire doctors use worldwide. You can
[answer it anonymously here](/self-check/phq9/).

**Treatment-resistant depression** usually means depression that has not improved after at
least two adequate trials of antidepressant medicine. This is the group in which IV ketamine
has been studied most (Daly et al., SUSTAIN-1; CANMAT 2021), and TMS is FDA-cleared for major
depression that has not responded to medication.

## Anxiety

Anxiety often comes with depression. The GAD-7 questionnaire is a common screen; you can
[take it here](/self-check/gad7/). The evidence for ketamine and TMS is strongest for
depression; when anxiety comes with depression we treat the depression and measure both.

## PTSD and OCD

Post-traumatic stress disorder and obsessive-compulsive disorder often occur alongside
depression. The evidence for ketamine and TMS in these conditions is more limited than for
depression. If this is why you are contacting us, we will tell you honestly what the evidence
shows for your situation, and work with your own therapist or psychiatrist.
""",
    ),
    "treatments": PageDefault(
        title="IV ketamine infusion and TMS",
        meta_description=(
            "What happens during an IV ketamine infusion or a TMS session, the induction series "
            "and boosters, monitoring and safety, side effects, and who should not have them."
        ),
        body="""
## IV ketamine infusion

Ketamine is an anaesthetic medicine. At much lower doses, given slowly into a vein, it can
relieve depression quickly, sometimes within hours, in people whom other treatments have not
helped. A single infusion has the strongest evidence (CANMAT 2021: Level 1 evidence in
treatment-resistant depression), but its effect is **often short-lived**, fading over days to
a couple of weeks. That is why infusions are given as a series.

**Off-label use.** IV racemic ketamine is approved by the FDA as an anaesthetic; its use for
depression is *off-label*. A related medicine, esketamine nasal spray (Spravato), is
FDA-approved for treatment-resistant depression and is given under a safety programme. Canadian
guidelines place IV ketamine as a third-line option for treatment-resistant depression.

### On the day

- No solid food for 6 hours before; clear liquids are fine until 2 hours before.
- A typical dose is 0.5 mg per kg of body weight, infused over about 40 minutes (the dose used
  in most studies).
- A nurse checks your blood pressure, heart rate and oxygen level before, every few minutes
  during, and after the infusion, and stays with you.
- You rest until you have fully recovered, usually 30 to 60 minutes, and **someone must take you
  home**. Do not drive until the next day, after a night's sleep.

### The induction ("stabilization") series and boosters

Most clinics, including ours, give a series of about **six infusions over two to three weeks**.
In one study of up to six infusions over 12 days, about 7 in 10 people responded; among those
who responded, the median time before symptoms returned was 18 days (Murrough 2013, a small
open-label study). Twice-weekly and thrice-weekly schedules worked similarly (Singh 2016).

After the series, single **booster** infusions can be given when symptoms start to return,
ideally a little before. There is no controlled standard for how often; we decide with you,
using your questionnaire scores.

### Side effects

Common and usually short-lived: feeling detached or "dissociated" (this lessens with repeated
infusions), headache, dizziness, nausea, blurred vision, anxiety, and a rise in blood pressure
that peaks around 30 to 40 minutes into the infusion and settles afterwards (Short 2018;
blood-pressure studies of 684 and 2,342 infusions). Long-term, heavy, non-medical use of
ketamine is linked to bladder problems and memory effects.

## TMS (transcranial magnetic stimulation)

TMS uses a magnetic coil held against the scalp to stimulate the part of the brain involved in
mood. You are awake and can drive yourself home. TMS has been **FDA-cleared for major depression
since 2008**.

- **Standard TMS:** about 37 minutes a day, five days a week, for four to six weeks (20 to 30
  sessions) (Clinical TMS Society 2016).
- **Theta-burst (iTBS):** about 3 minutes a session, FDA-cleared in 2018, and as effective as
  standard TMS in a large trial (THREE-D, 2018), though sessions can feel less comfortable.

Side effects are usually mild: scalp discomfort (which eases after the first week), headache and
facial twitching. Seizures are rare: about 3 in 100,000 sessions.

## Who should not have these treatments

Ketamine is not suitable for people with uncontrolled high blood pressure, an aneurysm or
arteriovenous malformation, a history of bleeding in the brain, active psychosis, or a known
allergy to ketamine, or during pregnancy or breastfeeding. Heart disease, past psychosis,
bipolar disorder, and alcohol or drug problems need careful review first.

TMS is not suitable for people with metal in or near the head (other than dental work) or
certain implanted devices such as pacemakers or nerve stimulators; a history of seizures needs
careful review.

Our prescriber reviews every patient's history before treatment, and may ask your own doctor
for an opinion first.
"""
        + SOURCES_MD,
    ),
    "process": PageDefault(
        title="Our process",
        meta_description=(
            "From first call to follow-up: the consultation, the stabilization series, the "
            "10-14 day window after it, and boosters."
        ),
        body="""
## 1. Consultation

[Ask for a consultation](/consultation/) and we will call you to talk it through. If it seems a
good fit, we send you a secure link to fill in your intake forms on your phone: your medical and
mental health history, medicines, and a few short questionnaires. You can stop and come back
at any time; nothing you enter is lost.

A prescriber reviews everything and tells you whether treatment is a safe and sensible option
for you. Sometimes we first ask your own doctor for an opinion, for example about your blood
pressure or heart.

## 2. The stabilization series

For ketamine, usually about six infusions over two to three weeks; for TMS, daily sessions on
weekdays for four to six weeks. You answer short questionnaires before treatments so we can see
how you are responding.

## 3. The 10-14 day window after the series

The effect of ketamine can fade over the following days and weeks. We check in with you
during the 10 to 14 days after your last infusion, repeat your questionnaires, and agree on a
plan together. We also keep your own doctor or therapist informed, with your permission.

## 4. Boosters

If treatment helped and symptoms begin to return, a single booster infusion can often bring
back the benefit. How often varies from person to person; we base it on your scores and how
you feel, not on a fixed schedule.
""",
    ),
    "faq": PageDefault(
        title="Questions and answers",
        meta_description=(
            "Why infusions happen only in the clinic, ketamine and therapy, addiction and misuse "
            "screening, working with your own provider, and what it costs."
        ),
        body="Answers to the questions people ask us most.",
    ),
    "contact": PageDefault(
        title="Contact and location",
        meta_description="How to reach us, where we are, and our opening hours.",
        body="""
Call us, or [ask for a consultation online](/consultation/) and we will call you back within
one working day.

We are not an emergency service. **If you are in crisis, call or text 988**, or call 911 if you
are in danger now.
""",
    ),
}

FAQ: tuple[FaqDefault, ...] = (
    FaqDefault(
        "Why are infusions given only in the clinic? Can I take ketamine at home?",
        """
Every infusion is given in the clinic, with a nurse monitoring your blood pressure, heart rate
and breathing throughout and until you have recovered. Ketamine raises blood pressure and can
cause strong dissociation, and the prescribing information asks for continuous monitoring and
for patients to go home only after full recovery, accompanied by an adult. For that reason we
do **not** offer take-home ketamine in any form.
""",
    ),
    FaqDefault(
        "Do you offer ketamine-assisted psychotherapy? Can I keep seeing my own therapist?",
        """
We provide the medical treatment and do not offer ketamine-assisted psychotherapy sessions
ourselves. We encourage you to keep seeing your own therapist: many people find the days after
an infusion a good time for a session. With your permission we keep your therapist informed
of your treatment and your questionnaire scores.
""",
    ),
    FaqDefault(
        "Is ketamine addictive? How do you screen for misuse?",
        """
Ketamine can be misused, and long-term, frequent, high-dose non-medical use is linked to
dependence, bladder damage and memory problems. The doses we use are small, given
occasionally and only in the clinic under supervision, never to take home. Before treatment
everyone completes standard alcohol and drug questionnaires (AUDIT-C and DAST-10), and a
history of alcohol or drug problems, or of ketamine use outside medical care, is reviewed
carefully by our prescriber.
""",
    ),
    FaqDefault(
        "My own doctor is against it. What happens then?",
        """
It is worth talking it through with them; many concerns are about blood pressure, the heart,
or misuse, and these are things we check. With your permission we write to your doctor to
explain the treatment, what we found in your intake and what we are asking, and we send them
updates on how you are doing. If your doctor advises against treatment for a medical reason,
our prescriber takes that seriously.
""",
    ),
    FaqDefault(
        "What makes the process better?",
        """
Three things are in your hands and ours, and each has a reason behind it. None of them makes
ketamine work for everyone: it helps many people, not all.

- **Preparation.** Follow the fasting instructions (no solid food for 6 hours, clear liquids
  until 2 hours before), arrange for an adult to take you home, and answer the short
  questionnaires before each infusion, so that you and we can see what is changing.
- **The setting.** The infusion is given somewhere calm, with a nurse watching your monitor
  throughout. The prescribing information advises keeping what you see, hear and feel to a
  minimum as the medicine wears off, because that makes unpleasant "emergence" reactions less
  likely; so we keep the room quiet and let you rest (the [treatments page](/treatments/) says
  how the room is set up here).
- **Therapy in the 10 to 14 days after the series.** The benefit of ketamine often fades over
  the following weeks. We review how you are doing in that window, and it is a good time to
  be seeing a therapist: in two small studies by the same group (16 people, then 28 in a
  randomised trial), people who had cognitive behavioural therapy after their infusions
  tended to keep the benefit for longer. These are early results, not proof, and we do not
  provide the therapy ourselves; we can write to your therapist with your permission.

Sources: the KETALAR prescribing information; fasting guidance (ASA); Murrough 2013;
Wilkinson 2017 and 2021 (see [Treatments](/treatments/) for the full references).
""",
    ),
    FaqDefault(
        "What is the process, and what does it cost?",
        """
The process is a consultation, intake forms and a prescriber's review, then a series of
treatments and follow-up (see [Our process](/process/)). Prices for the consultation, each
infusion or TMS session, and boosters are set by the clinic; the [treatments page](/treatments/)
shows them when the clinic has published them, and we give you a written estimate before you
commit to anything. IV ketamine for depression is off-label and is often
not covered by insurance; TMS often is, with prior authorization.
""",
    ),
)
