"""What the public pages read from the clinic's own records: price ranges from the
billing price list and packages, and where each location is (with a map link).

Read-only, no patient data. Nothing here is written; the clinic changes these on
the billing price list and the locations page.
"""

from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

from neuroclinic.billing.models import PackageVersion, Price, Service
from neuroclinic.clinics.models import Location, Organization

# The price list's services, grouped as a patient would ask about them. Add-ons (an
# additional hour, the drug line, as-needed medicines) are part of an invoice, not a
# price a patient compares, so they are not shown.
PRICE_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Consultation with a prescriber", (Service.Key.CONSULT, Service.Key.PSYCH_EVAL)),
    (
        "Ketamine infusion (single or booster)",
        (Service.Key.INFUSION, Service.Key.BOOSTER),
    ),
    (
        "TMS session",
        (
            Service.Key.TMS_SESSION,
            Service.Key.TMS_MOTOR_THRESHOLD,
            Service.Key.TMS_INITIAL,
        ),
    ),
    (
        "Follow-up visit",
        (
            Service.Key.EM_99212,
            Service.Key.EM_99213,
            Service.Key.EM_99214,
            Service.Key.EM_99215,
        ),
    ),
)

OPENSTREETMAP_SEARCH = "https://www.openstreetmap.org/search"


@dataclass(frozen=True)
class PriceRange:
    label: str
    low: str
    high: str
    detail: str = ""

    @property
    def text(self) -> str:
        return self.low if self.low == self.high else f"{self.low} to {self.high}"


@dataclass(frozen=True)
class Place:
    name: str
    lines: tuple[str, ...]
    phone: str
    map_url: str


def money_text(amount: Decimal, currency: str) -> str:
    whole = amount == amount.to_integral_value()
    number = f"{amount:,.0f}" if whole else f"{amount:,.2f}"
    return f"${number}" if currency == "USD" else f"{number} {currency}"


def price_ranges(organization: Organization | None) -> list[PriceRange]:
    """Each group's lowest and highest current price, then each package's current
    terms. Empty when the price list has no prices (two queries)."""
    if organization is None:
        return []
    current: dict[str, Price] = {}
    for price in (
        Price.objects.filter(service__organization=organization)
        .select_related("service")
        .order_by("service_id", "-version")
    ):
        current.setdefault(price.service.key, price)
    found: list[PriceRange] = []
    for label, keys in PRICE_GROUPS:
        prices = [current[key] for key in keys if key in current]
        currencies = {p.currency for p in prices}
        if not prices or len(currencies) != 1:
            continue  # amounts in two currencies are never put in one range
        currency = currencies.pop()
        amounts = sorted(p.amount for p in prices)
        found.append(
            PriceRange(
                label,
                money_text(amounts[0], currency),
                money_text(amounts[-1], currency),
            )
        )
    newest: dict[int, PackageVersion] = {}
    for version in (
        PackageVersion.objects.filter(package__organization=organization)
        .select_related("package")
        .order_by("package__name", "package_id", "-version")
    ):
        newest.setdefault(version.package_id, version)
    for version in newest.values():
        amount = money_text(version.price, version.currency)
        deposit = (
            f"; deposit {money_text(version.deposit, version.currency)}"
            if version.deposit
            else ""
        )
        found.append(
            PriceRange(
                version.package.name,
                amount,
                amount,
                detail=f"{version.sessions} sessions{deposit}",
            )
        )
    return found


def map_url(*parts: str) -> str:
    """A link to OpenStreetMap's search for an address: a plain https link, so no
    map script or tracker is put on the clinic's pages."""
    query = ", ".join(p.strip() for p in parts if p and p.strip())
    return f"{OPENSTREETMAP_SEARCH}?{urlencode({'query': query})}"


def places(organization: Organization | None, address: str = "") -> list[Place]:
    """The clinic's active locations with a map link each; with none, the site's own
    address text (one query)."""
    found = []
    if organization is not None:
        for location in Location.objects.filter(
            organization=organization, is_active=True
        ).order_by("name", "id"):
            street = ", ".join(
                p for p in (location.address_line1, location.address_line2) if p
            )
            town = f"{location.city}, {location.state} {location.postal_code}".strip()
            found.append(
                Place(
                    location.name,
                    (street, town),
                    location.phone,
                    map_url(street, town, location.country),
                )
            )
    if not found and address.strip():
        lines = tuple(line.strip() for line in address.splitlines() if line.strip())
        found.append(Place("", lines, "", map_url(*lines)))
    return found
