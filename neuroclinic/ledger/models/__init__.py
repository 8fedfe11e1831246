"""The controlled-substance ledger: stock, movements, counts, inventories, discrepancies.

The record of truth is `LedgerEntry`: append-only (database triggers refuse UPDATE
and DELETE), hash-chained per registrant, one row per movement. Containers and the
chain head cache current balances for fast pages; `neuroclinic ledger verify`
re-adds every entry and proves the caches and the chain agree.

Units are in the names (`_ml`, `_mg`, `_mg_per_ml`); quantities are Decimal with
two places (rules.VOLUME_ROUNDING_ML, rules.MASS_ROUNDING_MG). Times are UTC;
dates that the DEA reads (expiry, due dates, inventory date) are calendar dates
at the registered location.

One module per sub-domain: `registration` (registrant, chain head, safes), `stock`
(products, suppliers, lots, receipts, containers), `counts` (counts, inventories,
discrepancies, tasks, Form 106 drafts), `entries` (ledger entries and checks),
`fields` (quantity and DEA-number fields). Django loads the app's models from this
package, so every model is imported here; import them from here.
"""

from neuroclinic.ledger.models.counts import (
    ComplianceTask,
    Count,
    CountLine,
    Discrepancy,
    DiscrepancyLine,
    Form106Draft,
    Inventory,
    InventoryLine,
)
from neuroclinic.ledger.models.entries import LedgerCheck, LedgerEntry
from neuroclinic.ledger.models.fields import (
    TWO_PLACES,
    Schedule,
    as_quantity,
    dea_number_validator,
    quantity_field,
)
from neuroclinic.ledger.models.registration import (
    LedgerHead,
    Registrant,
    StorageLocation,
)
from neuroclinic.ledger.models.stock import (
    Container,
    Lot,
    Product,
    Receipt,
    Supplier,
    invoice_scan_path,
)

__all__ = [
    "TWO_PLACES",
    "ComplianceTask",
    "Container",
    "Count",
    "CountLine",
    "Discrepancy",
    "DiscrepancyLine",
    "Form106Draft",
    "Inventory",
    "InventoryLine",
    "LedgerCheck",
    "LedgerEntry",
    "LedgerHead",
    "Lot",
    "Product",
    "Receipt",
    "Registrant",
    "Schedule",
    "StorageLocation",
    "Supplier",
    "as_quantity",
    "dea_number_validator",
    "invoice_scan_path",
    "quantity_field",
]
