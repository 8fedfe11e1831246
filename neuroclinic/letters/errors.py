"""The one exception letter actions raise for refused input."""


class LettersError(Exception):
    """A refused letter action; `field` names the input at fault. Nothing was written."""

    def __init__(self, message: str, *, field: str = "__all__", code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code
