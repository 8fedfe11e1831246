"""The one exception ledger actions raise for refused input."""

from neuroclinic.ledger.rules import LedgerRuleCode, LedgerRuleError

# Which input a rule's refusal is about, when the caller does not say.
RULE_FIELDS: dict[LedgerRuleCode, str] = {
    LedgerRuleCode.DRAW_NOT_POSITIVE: "volume_ml",
    LedgerRuleCode.DRAW_EXCEEDS_BALANCE: "volume_ml",
    LedgerRuleCode.LOT_EXPIRED: "container",
    LedgerRuleCode.QUANTITY_NOT_POSITIVE: "volume_ml",
    LedgerRuleCode.QUANTITY_TOO_PRECISE: "volume_ml",
    LedgerRuleCode.BALANCE_BELOW_ZERO: "volume_ml",
    LedgerRuleCode.NOT_A_QUANTITY: "volume_ml",
    LedgerRuleCode.NEGATIVE_QUANTITY: "volume_ml",
    LedgerRuleCode.SESSION_UNRECONCILED: "session_ref",
    LedgerRuleCode.WITNESS_MISSING: "witness",
    LedgerRuleCode.WITNESS_IS_ACTOR: "witness",
    LedgerRuleCode.WITNESS_ROLE_NOT_PERMITTED: "witness",
}


class LedgerError(Exception):
    """A refused ledger action. `field` names the input at fault; `code` is stable.

    Views show it as a form error on `field`; the API answers 422 with a
    problem document naming it. Nothing was written.
    """

    def __init__(self, message: str, *, field: str = "__all__", code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code

    @classmethod
    def from_rule(
        cls, exc: LedgerRuleError, *, field: str | None = None
    ) -> "LedgerError":
        return cls(
            exc.message[:1].upper() + exc.message[1:],
            field=field or RULE_FIELDS.get(exc.code, "__all__"),
            code=str(exc.code),
        )
