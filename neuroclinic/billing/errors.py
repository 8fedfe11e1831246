"""The one exception billing actions raise for refused input."""

from neuroclinic.billing.rules import BillingRuleError


class BillingError(Exception):
    """A refused billing action. `field` names the input at fault; `code` is stable.

    Views show it as a form error on `field`; the API answers 422 with a
    problem document naming it. Nothing was written.
    """

    def __init__(self, message: str, *, field: str = "__all__", code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code

    @classmethod
    def from_rule(cls, exc: BillingRuleError) -> "BillingError":
        return cls(exc.message, field=exc.field, code=exc.code)
