"""The ledger's JSON API, mounted at /api/ledger/. Same actions as the web pages.

Every handler: capability check -> objects of the caller's organization by UUID
(404 otherwise) -> witness confirmation where needed -> action -> Out schema. A
refused action is a 422 problem document naming the field.

One router per sub-domain (`stock`, `receiving`, `sessions`, `movements`, `counts`,
`reports`), joined here; `access` and `serialize` hold what they share.
"""

from ninja import Router

from neuroclinic.ledger.api import (
    counts,
    movements,
    receiving,
    reports,
    sessions,
    stock,
)

router = Router(tags=["ledger"])
router.add_router("", stock.router)
router.add_router("", receiving.router)
router.add_router("", sessions.router)
router.add_router("", movements.router)
router.add_router("", counts.router)
router.add_router("", reports.router)
