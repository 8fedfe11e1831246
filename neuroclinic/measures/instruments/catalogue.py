"""The fourteen instruments the clinic ships, as published, with LOINC codes where verified.

Sources (ids as in docs/sources.md):
- PHQ-9, Patient Health Questionnaire-9: Kroenke K, Spitzer RL, Williams JBW.
  J Gen Intern Med. 2001;16(9):606-613. Item wording and LOINC codes (M1-M4).
- PHQ-2: Kroenke K, Spitzer RL, Williams JBW. Med Care. 2003;41(11):1284-1292 (M5).
- GAD-7, Generalized Anxiety Disorder-7: Spitzer RL, Kroenke K, Williams JBW, Lowe B.
  Arch Intern Med. 2006;166(10):1092-1097 (M6).
- PHQ-8: Kroenke K, Strine TW, Spitzer RL, et al. J Affect Disord. 2009;114(1-3):
  163-173 (M18). PHQ-9 without item 9: for records from elsewhere, not collected here.
- GAD-2: Kroenke K, Spitzer RL, Williams JBW, Monahan PO, Lowe B. Ann Intern Med.
  2007;146(5):317-325 (M19). Items 1-2 of the GAD-7.
- QIDS-SR16, Quick Inventory of Depressive Symptomatology, self-report: Rush AJ et al.
  Biol Psychiatry. 2003;54(5):573-583 (M7).
- MADRS, Montgomery-Asberg Depression Rating Scale: Montgomery SA, Asberg M.
  Br J Psychiatry. 1979;134:382-389 (M8).
- HAM-D17, Hamilton Depression Rating Scale, 17 items: Hamilton M. J Neurol Neurosurg
  Psychiatry. 1960;23(1):56-62; severity bands: Zimmerman M et al. J Affect Disord.
  2013;150(2):384-388 (M9).
- C-SSRS, Columbia-Suicide Severity Rating Scale, screen version (recent): Posner K et al.
  Am J Psychiatry. 2011;168(12):1266-1277; Columbia Lighthouse Project triage (M10).
- PCL-5, PTSD Checklist for DSM-5: Weathers FW et al., National Center for PTSD, 2013;
  Blevins CA et al. J Trauma Stress. 2015;28(6):489-498 (M11).
- MDQ, Mood Disorder Questionnaire: Hirschfeld RMA et al. Am J Psychiatry.
  2000;157(11):1873-1875 (M12).
- AUDIT-C, Alcohol Use Disorders Identification Test, consumption items: Bush K et al.
  Arch Intern Med. 1998;158(16):1789-1795; Bradley KA et al. Alcohol Clin Exp Res.
  2007;31(7):1208-1217 (M13).
- DAST-10, Drug Abuse Screening Test, 10 items: Skinner HA. Addict Behav. 1982;7(4):363-371;
  NIDA CDE bands (M14).
- CADSS-6, Clinician-Administered Dissociative States Scale, 6-item short form:
  Rodrigues NB et al. J Affect Disord. 2021;282:160-164; CADSS: Bremner JD et al.
  J Trauma Stress. 1998;11(1):125-136 (M15).

Where the wording may not be redistributed (`wording_redistributable=False`) an
item's text is a short label naming what it asks; the clinic loads its licensed
wording over it. The linkIds, option values and scoring do not change.

Pure module: standard library only. Rules in prose: docs/clinical/instruments.md.
"""

from enum import StrEnum

from neuroclinic.measures.instruments.model import (
    Band,
    EnableWhen,
    Instrument,
    Item,
    Option,
    Rater,
    Severity,
)

DEFINITION_VERSION = "1.0"


class InstrumentCode(StrEnum):
    PHQ9 = "phq9"
    PHQ2 = "phq2"
    GAD7 = "gad7"
    QIDS_SR16 = "qids-sr16"
    MADRS = "madrs"
    HAMD17 = "hamd17"
    CSSRS_SCREENER = "cssrs-screener"
    PCL5 = "pcl5"
    MDQ = "mdq"
    AUDIT_C = "audit-c"
    DAST10 = "dast10"
    CADSS6 = "cadss6"
    PHQ8 = "phq8"
    GAD2 = "gad2"


class UnknownInstrument(LookupError):
    def __init__(self, code: object) -> None:
        super().__init__(f"unknown instrument code {code!r}")
        self.code = code


# Generic LOINC yes/no answers (LA33-6 Yes, LA32-8 No). Yes is listed first, as on
# the published forms.
YES = Option(1, "Yes", "LA33-6")
NO = Option(0, "No", "LA32-8")
YES_NO = (YES, NO)

# PHQ/GAD frequency answers, LOINC answer list LL358-3 (Source: M2).
PHQ_FREQUENCY = (
    Option(0, "Not at all", "LA6568-5"),
    Option(1, "Several days", "LA6569-3"),
    Option(2, "More than half the days", "LA6570-1"),
    Option(3, "Nearly every day", "LA6571-9"),
)

# PHQ difficulty answers. LOINC numbers "Very" LA6575-0 and "Extremely" LA6574-3
# (out of numeric order); checked against several LOINC-derived FHIR
# Questionnaires, not against loinc.org itself.
PHQ_DIFFICULTY = (
    Option(0, "Not difficult at all", "LA6572-7"),
    Option(1, "Somewhat difficult", "LA6573-5"),
    Option(2, "Very difficult", "LA6575-0"),
    Option(3, "Extremely difficult", "LA6574-3"),
)


def _numbered_options(highest: int) -> tuple[Option, ...]:
    """Options labelled only by their score, for instruments whose anchor text is not shipped."""
    return tuple(Option(value, str(value)) for value in range(highest + 1))


def _item(
    link_id: str,
    text: str,
    options: tuple[Option, ...],
    *,
    loinc: str | None = None,
    required: bool = True,
    enable_when: EnableWhen | None = None,
    in_total: bool = True,
    reverse_scored: bool = False,
) -> Item:
    return Item(
        link_id=link_id,
        text=text,
        required=required,
        loinc=loinc,
        options=options,
        enable_when=enable_when,
        in_total=in_total,
        reverse_scored=reverse_scored,
    )


# PHQ-9 -----------------------------------------------------------------------

PHQ_STEM = "Over the last 2 weeks, how often have you been bothered by any of the following problems?"

_PHQ9_ITEMS = (
    ("Little interest or pleasure in doing things", "44250-9"),
    ("Feeling down, depressed, or hopeless", "44255-8"),
    ("Trouble falling or staying asleep, or sleeping too much", "44259-0"),
    ("Feeling tired or having little energy", "44254-1"),
    ("Poor appetite or overeating", "44251-7"),
    (
        "Feeling bad about yourself - or that you are a failure or have let yourself"
        " or your family down",
        "44258-2",
    ),
    (
        "Trouble concentrating on things, such as reading the newspaper or watching"
        " television",
        "44252-5",
    ),
    (
        "Moving or speaking so slowly that other people could have noticed. Or the"
        " opposite - being so fidgety or restless that you have been moving around a"
        " lot more than usual",
        "44253-3",
    ),
    (
        "Thoughts that you would be better off dead, or of hurting yourself in some way",
        "44260-8",
    ),
)

PHQ9 = Instrument(
    code=InstrumentCode.PHQ9,
    name="Patient Health Questionnaire-9 (PHQ-9)",
    version=DEFINITION_VERSION,
    recall_period="Last 2 weeks",
    source=(
        "Kroenke K, Spitzer RL, Williams JBW. The PHQ-9: validity of a brief depression"
        " severity measure. J Gen Intern Med. 2001;16(9):606-613. Wording and LOINC"
        " codes: LOINC 44249-1 and HL7 US Core examples (sources M1-M4)."
    ),
    licence=(
        "Copyright Pfizer Inc. No permission required to reproduce, translate, display"
        " or distribute (M4); not strictly public domain."
    ),
    loinc_panel="44249-1",
    loinc_total="44261-6",
    rater=Rater.PATIENT,
    items=(
        *(
            _item(f"phq9-{number}", text, PHQ_FREQUENCY, loinc=loinc)
            for number, (text, loinc) in enumerate(_PHQ9_ITEMS, start=1)
        ),
        _item(
            "phq9-10",
            "If you checked off any problems, how difficult have these problems made it"
            " for you to do your work, take care of things at home, or get along with"
            " other people?",
            PHQ_DIFFICULTY,
            loinc="69722-7",
            required=False,
            in_total=False,
        ),
    ),
    wording_redistributable=True,
    preamble=PHQ_STEM,
    total_range=(0, 27),
    bands=(
        Band(0, 4, Severity.MINIMAL),
        Band(5, 9, Severity.MILD),
        Band(10, 14, Severity.MODERATE),
        Band(15, 19, Severity.MODERATELY_SEVERE),
        Band(20, 27, Severity.SEVERE),
    ),
)

# PHQ-2 -----------------------------------------------------------------------

PHQ2 = Instrument(
    code=InstrumentCode.PHQ2,
    name="Patient Health Questionnaire-2 (PHQ-2)",
    version=DEFINITION_VERSION,
    recall_period="Last 2 weeks",
    source=(
        "Kroenke K, Spitzer RL, Williams JBW. The Patient Health Questionnaire-2:"
        " validity of a two-item depression screener. Med Care. 2003;41(11):1284-1292."
        " Items 1-2 of the PHQ-9; LOINC 55757-9 (source M5)."
    ),
    licence=PHQ9.licence,
    loinc_panel="55757-9",
    loinc_total="55758-7",
    rater=Rater.PATIENT,
    items=tuple(
        _item(f"phq2-{number}", text, PHQ_FREQUENCY, loinc=loinc)
        for number, (text, loinc) in enumerate(_PHQ9_ITEMS[:2], start=1)
    ),
    wording_redistributable=True,
    preamble=PHQ_STEM,
    total_range=(0, 6),
)

# GAD-7 -----------------------------------------------------------------------

_GAD7_ITEMS = (
    ("Feeling nervous, anxious, or on edge", "69725-0"),
    ("Not being able to stop or control worrying", "68509-9"),
    ("Worrying too much about different things", "69733-4"),
    ("Trouble relaxing", "69734-2"),
    ("Being so restless that it is hard to sit still", "69735-9"),
    ("Becoming easily annoyed or irritable", "69689-8"),
    ("Feeling afraid, as if something awful might happen", "69736-7"),
)

GAD7 = Instrument(
    code=InstrumentCode.GAD7,
    name="Generalized Anxiety Disorder-7 (GAD-7)",
    version=DEFINITION_VERSION,
    recall_period="Last 2 weeks",
    source=(
        "Spitzer RL, Kroenke K, Williams JBW, Lowe B. A brief measure for assessing"
        " generalized anxiety disorder: the GAD-7. Arch Intern Med. 2006;166(10):"
        "1092-1097. LOINC 69737-5, item codes from PHQ-SADS 69729-2 (source M6)."
    ),
    licence="As the PHQ (Pfizer): free to reproduce (M6) [S].",
    loinc_panel="69737-5",
    loinc_total="70274-6",
    rater=Rater.PATIENT,
    items=tuple(
        _item(f"gad7-{number}", text, PHQ_FREQUENCY, loinc=loinc)
        for number, (text, loinc) in enumerate(_GAD7_ITEMS, start=1)
    ),
    wording_redistributable=True,
    preamble="Over the last 2 weeks, how often have you been bothered by the following problems?",
    total_range=(0, 21),
    bands=(
        Band(0, 4, Severity.MINIMAL),
        Band(5, 9, Severity.MILD),
        Band(10, 14, Severity.MODERATE),
        Band(15, 21, Severity.SEVERE),
    ),
)

# PHQ-8 and GAD-2 -------------------------------------------------------------
# No LOINC panel or total code for either could be checked against loinc.org here
# (44261-6 is the PHQ-9 total, 70273-8 the PHQ-15 total), so their totals carry
# local codes, as QIDS-SR16's do; the items keep the PHQ-9 and GAD-7 item codes.

PHQ8 = Instrument(
    code=InstrumentCode.PHQ8,
    name="Patient Health Questionnaire-8 (PHQ-8)",
    version=DEFINITION_VERSION,
    recall_period="Last 2 weeks",
    source=(
        "Kroenke K, Strine TW, Spitzer RL, Williams JBW, Berry JT, Mokdad AH. The"
        " PHQ-8 as a measure of current depression in the general population. J Affect"
        " Disord. 2009;114(1-3):163-173. Items 1-8 of the PHQ-9 (source M18)."
    ),
    licence=PHQ9.licence,
    loinc_panel=None,
    loinc_total=None,
    rater=Rater.PATIENT,
    items=tuple(
        _item(f"phq8-{number}", text, PHQ_FREQUENCY, loinc=loinc)
        for number, (text, loinc) in enumerate(_PHQ9_ITEMS[:8], start=1)
    ),
    wording_redistributable=True,
    preamble=PHQ_STEM,
    total_range=(0, 24),
    bands=(
        Band(0, 4, Severity.MINIMAL),
        Band(5, 9, Severity.MILD),
        Band(10, 14, Severity.MODERATE),
        Band(15, 19, Severity.MODERATELY_SEVERE),
        Band(20, 24, Severity.SEVERE),
    ),
    # It has no item 9: a clinic treating depression asks the PHQ-9, so that
    # suicidal thoughts are asked about (C6). The PHQ-8 is for records from
    # elsewhere (imports, outside scores), never sent to patients from here.
    collected=False,
)

GAD2 = Instrument(
    code=InstrumentCode.GAD2,
    name="Generalized Anxiety Disorder-2 (GAD-2)",
    version=DEFINITION_VERSION,
    recall_period="Last 2 weeks",
    source=(
        "Kroenke K, Spitzer RL, Williams JBW, Monahan PO, Lowe B. Anxiety disorders in"
        " primary care: prevalence, impairment, comorbidity, and detection. Ann Intern"
        " Med. 2007;146(5):317-325. Items 1-2 of the GAD-7 (sources M6, M19)."
    ),
    licence=GAD7.licence,
    loinc_panel=None,
    loinc_total=None,
    rater=Rater.PATIENT,
    items=tuple(
        _item(f"gad2-{number}", text, PHQ_FREQUENCY, loinc=loinc)
        for number, (text, loinc) in enumerate(_GAD7_ITEMS[:2], start=1)
    ),
    wording_redistributable=True,
    preamble=GAD7.preamble,
    total_range=(0, 6),
)

# QIDS-SR16 -------------------------------------------------------------------

# The printed item headings; the answer sentences are not shipped.
_QIDS_LABELS = (
    "Falling asleep",
    "Sleep during the night",
    "Waking up too early",
    "Sleeping too much",
    "Feeling sad",
    "Decreased appetite",
    "Increased appetite",
    "Decreased weight (within the last two weeks)",
    "Increased weight (within the last two weeks)",
    "Concentration / decision making",
    "View of myself",
    "Thoughts of death or suicide",
    "General interest",
    "Energy level",
    "Feeling slowed down",
    "Feeling restless",
)

# Appetite (6 decreased / 7 increased) and weight (8 / 9): the form asks the
# patient to complete one of each pair, so none of the four is required alone.
_QIDS_EITHER_OR = frozenset({6, 7, 8, 9})

QIDS_SR16 = Instrument(
    code=InstrumentCode.QIDS_SR16,
    name="Quick Inventory of Depressive Symptomatology, Self-Report, 16 items (QIDS-SR16)",
    version=DEFINITION_VERSION,
    recall_period="Past 7 days",
    source=(
        "Rush AJ, Trivedi MH, Ibrahim HM, et al. The 16-item Quick Inventory of"
        " Depressive Symptomatology (QIDS), clinician rating (QIDS-C), and self-report"
        " (QIDS-SR). Biol Psychiatry. 2003;54(5):573-583. Scoring and bands:"
        " ids-qids.org interpretation table (source M7)."
    ),
    licence=(
        "Free for clinical and research use (ids-qids.org) [S]; redistribution of the"
        " wording in this repository not verified, so it is not shipped."
    ),
    loinc_panel=None,
    loinc_total=None,
    rater=Rater.PATIENT,
    items=tuple(
        _item(
            f"qids-sr16-{number}",
            label,
            _numbered_options(3),
            required=number not in _QIDS_EITHER_OR,
        )
        for number, label in enumerate(_QIDS_LABELS, start=1)
    ),
    wording_redistributable=False,
    total_range=(0, 27),
    bands=(
        Band(0, 5, Severity.NONE),
        Band(6, 10, Severity.MILD),
        Band(11, 15, Severity.MODERATE),
        Band(16, 20, Severity.SEVERE),
        Band(21, 27, Severity.VERY_SEVERE),
    ),
    required_one_of=(
        ("qids-sr16-6", "qids-sr16-7"),
        ("qids-sr16-8", "qids-sr16-9"),
    ),
)

# MADRS -----------------------------------------------------------------------

_MADRS_LABELS = (
    "Apparent sadness",
    "Reported sadness",
    "Inner tension",
    "Reduced sleep",
    "Reduced appetite",
    "Concentration difficulties",
    "Lassitude",
    "Inability to feel",
    "Pessimistic thoughts",
    "Suicidal thoughts",
)

MADRS = Instrument(
    code=InstrumentCode.MADRS,
    name="Montgomery-Asberg Depression Rating Scale (MADRS)",
    version=DEFINITION_VERSION,
    recall_period="Past week",
    source=(
        "Montgomery SA, Asberg M. A new depression scale designed to be sensitive to"
        " change. Br J Psychiatry. 1979;134:382-389. Items, 0-6 scoring and bands"
        " (source M8)."
    ),
    licence=(
        "Not verified [U] (often treated as freely usable); the anchor wording is not"
        " shipped."
    ),
    loinc_panel=None,
    loinc_total=None,
    rater=Rater.CLINICIAN,
    # Anchors are defined at 0, 2, 4 and 6; raters may score the steps between.
    items=tuple(
        _item(f"madrs-{number}", label, _numbered_options(6))
        for number, label in enumerate(_MADRS_LABELS, start=1)
    ),
    wording_redistributable=False,
    total_range=(0, 60),
    bands=(
        Band(0, 6, Severity.NORMAL),
        Band(7, 19, Severity.MILD),
        Band(20, 34, Severity.MODERATE),
        Band(35, 60, Severity.SEVERE),
    ),
)

# HAM-D17 ---------------------------------------------------------------------

# The 17 scored items in their printed order, each with its highest score: nine are
# rated 0-4 and eight 0-2, so the total is 0-52 (M9). Item 16 (loss of weight) is
# rated either from history or from weekly weights; one rating is entered. Some
# printings add "3 = not assessed" to item 16: it is not a score, so not an option.
_HAMD17_ITEMS = (
    ("Depressed mood", 4),
    ("Feelings of guilt", 4),
    ("Suicide", 4),
    ("Insomnia: early in the night", 2),
    ("Insomnia: middle of the night", 2),
    ("Insomnia: early hours of the morning", 2),
    ("Work and activities", 4),
    ("Retardation", 4),
    ("Agitation", 4),
    ("Anxiety, psychic", 4),
    ("Anxiety, somatic", 4),
    ("Somatic symptoms, gastrointestinal", 2),
    ("General somatic symptoms", 2),
    ("Genital symptoms", 2),
    ("Hypochondriasis", 4),
    ("Loss of weight", 2),
    ("Insight", 2),
)

HAMD17 = Instrument(
    code=InstrumentCode.HAMD17,
    name="Hamilton Depression Rating Scale, 17 items (HAM-D17)",
    version=DEFINITION_VERSION,
    recall_period="Past week",
    source=(
        "Hamilton M. A rating scale for depression. J Neurol Neurosurg Psychiatry."
        " 1960;23(1):56-62. Severity bands: Zimmerman M, Martinez JH, Young D,"
        " Chelminski I, Dalrymple K. Severity classification on the Hamilton"
        " Depression Rating Scale. J Affect Disord. 2013;150(2):384-388 (source M9)."
    ),
    licence=(
        "Commonly described as public domain [U]; the anchor wording is not shipped."
    ),
    loinc_panel=None,
    loinc_total=None,
    rater=Rater.CLINICIAN,
    items=tuple(
        _item(f"hamd17-{number}", label, _numbered_options(highest))
        for number, (label, highest) in enumerate(_HAMD17_ITEMS, start=1)
    ),
    wording_redistributable=False,
    total_range=(0, 52),
    bands=(
        Band(0, 7, Severity.NORMAL),
        Band(8, 16, Severity.MILD),
        Band(17, 23, Severity.MODERATE),
        Band(24, 52, Severity.SEVERE),
    ),
)

# C-SSRS screener -------------------------------------------------------------

# Item codes are the C-SSRS "1 month" ideation codes, "lifetime" behaviour code and
# "past 3 months" behaviour code, as used by the HL7 US Behavioral Health Profiles
# C-SSRS example [S]; no LOINC panel for the screener itself is verified (M10).
_CSSRS_ASKED_IF_ITEM2_YES = EnableWhen("cssrs-screener-2", YES.value)

CSSRS_SCREENER = Instrument(
    code=InstrumentCode.CSSRS_SCREENER,
    name="Columbia-Suicide Severity Rating Scale, Screen Version - Recent (C-SSRS Screener)",
    version=DEFINITION_VERSION,
    recall_period="Past month (items 1-5); lifetime, then past 3 months (item 6)",
    source=(
        "Posner K, Brown GK, Stanley B, et al. The Columbia-Suicide Severity Rating"
        " Scale. Am J Psychiatry. 2011;168(12):1266-1277. Screen version and triage:"
        " Columbia Lighthouse Project, cssrs.columbia.edu (source M10)."
    ),
    licence=(
        "The Research Foundation for Mental Hygiene. No cost or licence for health and"
        " behavioral-health providers to embed in an EHR (M10); redistribution of the"
        " wording in this repository not verified, so it is not shipped."
    ),
    loinc_panel=None,
    loinc_total=None,
    rater=Rater.CLINICIAN,
    items=(
        _item(
            "cssrs-screener-1",
            "Wish to be dead (past month)",
            YES_NO,
            loinc="93246-7",
            in_total=False,
        ),
        _item(
            "cssrs-screener-2",
            "Non-specific active suicidal thoughts (past month)",
            YES_NO,
            loinc="93247-5",
            in_total=False,
        ),
        _item(
            "cssrs-screener-3",
            "Active suicidal ideation with any methods (not plan) without intent to act"
            " (past month)",
            YES_NO,
            loinc="93248-3",
            enable_when=_CSSRS_ASKED_IF_ITEM2_YES,
            in_total=False,
        ),
        _item(
            "cssrs-screener-4",
            "Active suicidal ideation with some intent to act, without specific plan"
            " (past month)",
            YES_NO,
            loinc="93249-1",
            enable_when=_CSSRS_ASKED_IF_ITEM2_YES,
            in_total=False,
        ),
        _item(
            "cssrs-screener-5",
            "Active suicidal ideation with specific plan and intent (past month)",
            YES_NO,
            loinc="93250-9",
            enable_when=_CSSRS_ASKED_IF_ITEM2_YES,
            in_total=False,
        ),
        _item(
            "cssrs-screener-6",
            "Suicidal behaviour (lifetime)",
            YES_NO,
            loinc="93267-3",
            in_total=False,
        ),
        _item(
            "cssrs-screener-6a",
            "Suicidal behaviour within the past 3 months",
            YES_NO,
            loinc="93269-9",
            enable_when=EnableWhen("cssrs-screener-6", YES.value),
            in_total=False,
        ),
    ),
    wording_redistributable=False,
    preamble="Ask items 1 and 2. If yes to 2, ask 3, 4 and 5; if no, go to 6. Always ask 6.",
)

# PCL-5 -----------------------------------------------------------------------

_PCL5_ITEMS = (
    "Repeated, disturbing, and unwanted memories of the stressful experience?",
    "Repeated, disturbing dreams of the stressful experience?",
    "Suddenly feeling or acting as if the stressful experience were actually happening"
    " again (as if you were actually back there reliving it)?",
    "Feeling very upset when something reminded you of the stressful experience?",
    "Having strong physical reactions when something reminded you of the stressful"
    " experience (for example, heart pounding, trouble breathing, sweating)?",
    "Avoiding memories, thoughts, or feelings related to the stressful experience?",
    "Avoiding external reminders of the stressful experience (for example, people,"
    " places, conversations, activities, objects, or situations)?",
    "Trouble remembering important parts of the stressful experience?",
    "Having strong negative beliefs about yourself, other people, or the world (for"
    " example, having thoughts such as: I am bad, there is something seriously wrong"
    " with me, no one can be trusted, the world is completely dangerous)?",
    "Blaming yourself or someone else for the stressful experience or what happened"
    " after it?",
    "Having strong negative feelings such as fear, horror, anger, guilt, or shame?",
    "Loss of interest in activities that you used to enjoy?",
    "Feeling distant or cut off from other people?",
    "Trouble experiencing positive feelings (for example, being unable to feel"
    " happiness or have loving feelings for people close to you)?",
    "Irritable behavior, angry outbursts, or acting aggressively?",
    "Taking too many risks or doing things that could cause you harm?",
    'Being "superalert" or watchful or on guard?',
    "Feeling jumpy or easily startled?",
    "Having difficulty concentrating?",
    "Trouble falling or staying asleep?",
)

PCL5_OPTIONS = (
    Option(0, "Not at all"),
    Option(1, "A little bit"),
    Option(2, "Moderately"),
    Option(3, "Quite a bit"),
    Option(4, "Extremely"),
)

PCL5 = Instrument(
    code=InstrumentCode.PCL5,
    name="PTSD Checklist for DSM-5 (PCL-5)",
    version=DEFINITION_VERSION,
    recall_period="Past month",
    source=(
        "Weathers FW, Litz BT, Keane TM, Palmieri PA, Marx BP, Schnurr PP. The PTSD"
        " Checklist for DSM-5 (PCL-5). National Center for PTSD, 2013. Cut-off: Blevins"
        " CA et al. J Trauma Stress. 2015;28(6):489-498 (source M11)."
    ),
    licence="Public domain (US Department of Veterans Affairs, National Center for PTSD) (M11).",
    loinc_panel="101697-1",
    loinc_total=None,
    rater=Rater.PATIENT,
    items=tuple(
        _item(f"pcl5-{number}", text, PCL5_OPTIONS)
        for number, text in enumerate(_PCL5_ITEMS, start=1)
    ),
    wording_redistributable=True,
    preamble="In the past month, how much were you bothered by:",
    total_range=(0, 80),
)

# MDQ -------------------------------------------------------------------------

_MDQ_SYMPTOM_LABELS = (
    "Elevated or hyper mood",
    "Irritability, fights or arguments",
    "More self-confident than usual",
    "Less sleep, not missed",
    "More talkative or faster speech",
    "Racing thoughts",
    "Easily distracted",
    "More energy than usual",
    "More active than usual",
    "More social or outgoing than usual",
    "More interest in sex than usual",
    "Unusual, excessive or risky behaviour",
    "Spending that caused trouble",
)

MDQ_SYMPTOM_LINK_IDS = tuple(f"mdq-1{letter}" for letter in "abcdefghijklm")

MDQ_IMPAIRMENT = (
    Option(0, "No problem"),
    Option(1, "Minor problem"),
    Option(2, "Moderate problem"),
    Option(3, "Serious problem"),
)

MDQ = Instrument(
    code=InstrumentCode.MDQ,
    name="Mood Disorder Questionnaire (MDQ)",
    version=DEFINITION_VERSION,
    recall_period="Lifetime (any period when you were not your usual self)",
    source=(
        "Hirschfeld RMA, Williams JBW, Spitzer RL, et al. Development and validation of"
        " a screening instrument for bipolar spectrum disorder: the Mood Disorder"
        " Questionnaire. Am J Psychiatry. 2000;157(11):1873-1875 (source M12)."
    ),
    licence="Not verified [U]; the wording is not shipped.",
    loinc_panel=None,
    loinc_total=None,
    rater=Rater.PATIENT,
    items=(
        *(
            _item(link_id, label, YES_NO)
            for link_id, label in zip(
                MDQ_SYMPTOM_LINK_IDS, _MDQ_SYMPTOM_LABELS, strict=True
            )
        ),
        _item(
            "mdq-2",
            "Several of these happened during the same period of time",
            YES_NO,
            in_total=False,
        ),
        _item(
            "mdq-3",
            "How much of a problem these caused (work, family, money or legal trouble,"
            " arguments or fights)",
            MDQ_IMPAIRMENT,
            in_total=False,
        ),
        _item(
            "mdq-4",
            "Blood relatives with manic-depressive illness or bipolar disorder",
            YES_NO,
            required=False,
            in_total=False,
        ),
        _item(
            "mdq-5",
            "Told by a health professional that you have manic-depressive illness or"
            " bipolar disorder",
            YES_NO,
            required=False,
            in_total=False,
        ),
    ),
    wording_redistributable=False,
    total_range=(0, 13),
)

# AUDIT-C ---------------------------------------------------------------------

AUDIT_C = Instrument(
    code=InstrumentCode.AUDIT_C,
    name="Alcohol Use Disorders Identification Test - Consumption (AUDIT-C)",
    version=DEFINITION_VERSION,
    recall_period="Past year",
    source=(
        "Bush K, Kivlahan DR, McDonell MB, Fihn SD, Bradley KA. The AUDIT alcohol"
        " consumption questions (AUDIT-C). Arch Intern Med. 1998;158(16):1789-1795."
        " Sex-specific cut-offs: Bradley KA et al. Alcohol Clin Exp Res."
        " 2007;31(7):1208-1217. LOINC 72109-2 (source M13)."
    ),
    licence="WHO AUDIT, public domain (US Core AUDIT-C Questionnaire, M13).",
    loinc_panel="72109-2",
    loinc_total="75626-2",
    rater=Rater.PATIENT,
    items=(
        _item(
            "audit-c-1",
            "How often do you have a drink containing alcohol?",
            (
                Option(0, "Never", "LA6270-8"),
                Option(1, "Monthly or less", "LA18926-8"),
                Option(2, "2-4 times a month", "LA18927-6"),
                Option(3, "2-3 times a week", "LA18928-4"),
                Option(4, "4 or more times a week", "LA18929-2"),
            ),
            loinc="68518-0",
        ),
        _item(
            "audit-c-2",
            "How many drinks containing alcohol do you have on a typical day when you"
            " are drinking?",
            (
                Option(0, "1 or 2", "LA15694-5"),
                Option(1, "3 or 4", "LA15695-2"),
                Option(2, "5 or 6", "LA18930-0"),
                Option(3, "7 to 9", "LA18931-8"),
                Option(4, "10 or more", "LA18932-6"),
            ),
            loinc="68519-8",
        ),
        _item(
            "audit-c-3",
            "How often do you have six or more drinks on one occasion?",
            (
                Option(0, "Never", "LA6270-8"),
                Option(1, "Less than monthly", "LA18933-4"),
                Option(2, "Monthly", "LA18876-5"),
                Option(3, "Weekly", "LA18891-4"),
                Option(4, "Daily or almost daily", "LA18934-2"),
            ),
            loinc="68520-6",
        ),
    ),
    wording_redistributable=True,
    total_range=(0, 12),
    sex_specific_cutoffs=True,
)

# DAST-10 ---------------------------------------------------------------------

_DAST10_LABELS = (
    "Non-medical drug use",
    "More than one drug at a time",
    "Always able to stop when wanted (reverse-scored: no counts 1)",
    "Blackouts or flashbacks",
    "Feeling bad or guilty about drug use",
    "Spouse or parents complain about drug use",
    "Neglected family because of drug use",
    "Illegal activities to obtain drugs",
    "Withdrawal symptoms on stopping",
    "Medical problems from drug use",
)

DAST10_REVERSED_ITEM = 3

DAST10 = Instrument(
    code=InstrumentCode.DAST10,
    name="Drug Abuse Screening Test, 10 items (DAST-10)",
    version=DEFINITION_VERSION,
    recall_period="Past 12 months",
    source=(
        "Skinner HA. The Drug Abuse Screening Test. Addict Behav. 1982;7(4):363-371."
        " Bands: NIDA Common Data Elements, DAST-10; LOINC 82666-9 (source M14)."
    ),
    licence=(
        "Copyright Harvey A. Skinner and the Centre for Addiction and Mental Health [S];"
        " terms for redistribution not verified [U], so the wording is not shipped."
    ),
    loinc_panel="82666-9",
    loinc_total="82667-7",
    rater=Rater.PATIENT,
    items=tuple(
        _item(
            f"dast10-{number}",
            label,
            YES_NO,
            reverse_scored=number == DAST10_REVERSED_ITEM,
        )
        for number, label in enumerate(_DAST10_LABELS, start=1)
    ),
    wording_redistributable=False,
    preamble="Past 12 months. Drug use here does not include alcohol or tobacco.",
    total_range=(0, 10),
    bands=(
        Band(0, 0, Severity.NONE),
        Band(1, 2, Severity.LOW),
        Band(3, 5, Severity.MODERATE),
        Band(6, 8, Severity.SUBSTANTIAL),
        Band(9, 10, Severity.SEVERE),
    ),
)

# CADSS-6 ---------------------------------------------------------------------

# Position in the short form -> item number in the 23-item CADSS (Rodrigues 2021).
CADSS6_SOURCE_ITEMS = (1, 2, 6, 7, 15, 22)

CADSS6 = Instrument(
    code=InstrumentCode.CADSS6,
    name="Clinician-Administered Dissociative States Scale, 6-item short form (CADSS-6)",
    version=DEFINITION_VERSION,
    recall_period="Now (state measure, rated during or soon after the infusion)",
    source=(
        "Rodrigues NB, McIntyre RS, Lipsitz O, et al. A simplified 6-item"
        " clinician-administered dissociative symptom scale (CADSS-6) for monitoring"
        " dissociative effects of sub-anesthetic ketamine infusions. J Affect Disord."
        " 2021;282:160-164. CADSS: Bremner JD et al. J Trauma Stress. 1998;11(1):"
        "125-136 (source M15)."
    ),
    licence="Not verified [U]; the wording is not shipped.",
    loinc_panel=None,
    loinc_total=None,
    rater=Rater.CLINICIAN,
    items=tuple(
        _item(f"cadss6-{number}", f"CADSS item {source_item}", _numbered_options(4))
        for number, source_item in enumerate(CADSS6_SOURCE_ITEMS, start=1)
    ),
    wording_redistributable=False,
    total_range=(0, 24),
    side_effect_scale=True,
)

# Registry --------------------------------------------------------------------

INSTRUMENTS: dict[str, Instrument] = {
    instrument.code: instrument
    for instrument in (
        PHQ9,
        PHQ2,
        GAD7,
        QIDS_SR16,
        MADRS,
        CSSRS_SCREENER,
        PCL5,
        MDQ,
        AUDIT_C,
        DAST10,
        CADSS6,
        PHQ8,
        GAD2,
        HAMD17,
    )
}


def get_instrument(code: str) -> Instrument:
    try:
        return INSTRUMENTS[code]
    except (KeyError, TypeError):
        raise UnknownInstrument(code) from None
