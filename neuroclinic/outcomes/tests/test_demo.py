"""The demo clinic has booster rules, suggestions with a basis, and follow-up tasks."""

from neuroclinic.clinics.demo import load_demo
from neuroclinic.outcomes.models import BoosterRuleSet, BoosterSuggestion, FollowUpTask
from neuroclinic.treatment.models import TreatmentPlan


def test_demo_has_outcomes_to_show(db: None) -> None:
    organization = load_demo(patient_count=12)
    assert BoosterRuleSet.objects.filter(organization=organization, version=1).exists()
    suggestions = list(BoosterSuggestion.objects.filter(organization=organization))
    completed = TreatmentPlan.objects.filter(
        organization=organization, induction_completed_at__isnull=False
    )
    # A small demo may have no completed series; each one has its two tasks.
    tasks = FollowUpTask.objects.filter(organization=organization)
    assert tasks.count() == 2 * completed.count()
    for suggestion in suggestions:
        assert suggestion.basis
        assert all(b["text"] for b in suggestion.basis)
