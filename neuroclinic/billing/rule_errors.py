"""The error every pure billing rule raises for input it refuses (standard library only)."""


class BillingRuleError(ValueError):
    """Input a billing rule refuses. `field` names the input; `code` is stable."""

    def __init__(self, message: str, *, field: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code
