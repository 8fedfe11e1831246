"""The billing demo loader: prices, packages, estimates, a package sold, invoices, totals that add up.

(The whole demo clinic is loaded by `neuroclinic demo`; here the billing loader runs
on one charted infusion, which is what it builds on.)
"""

import random

import pytest

from neuroclinic.accounts.models import User
from neuroclinic.billing import demo
from neuroclinic.billing.models import (
    GoodFaithEstimate,
    Invoice,
    PackageSale,
    Price,
    RenderingProvider,
    Statement,
)
from neuroclinic.billing.verify import verify_totals
from neuroclinic.clinics.demo import DemoContext
from neuroclinic.clinics.models import Organization
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.patients.models import Patient


@pytest.mark.django_db
def test_the_billing_demo_sells_estimates_and_invoices(
    organization: Organization,
    patient: Patient,
    infused: InfusionSession,
    billing: User,
    prescriber: User,
    director: User,
) -> None:
    demo.load(
        DemoContext(
            organization=organization,
            staff={"billing": billing, "prescriber": prescriber, "director": director},
            patients=[patient],
            rng=random.Random(1),
        )
    )
    assert Price.objects.filter(service__key="infusion").count() == 2  # a price review
    assert RenderingProvider.objects.count() == 2
    assert GoodFaithEstimate.objects.filter(patient=patient).count() == 1
    assert PackageSale.objects.filter(patient=patient).count() == 1
    invoice = Invoice.objects.get(session_ref=infused.uuid)
    assert invoice.package_sale is not None
    assert Statement.objects.filter(patient=patient).count() == 1  # the first patient
    assert verify_totals(organization.pk) == []
