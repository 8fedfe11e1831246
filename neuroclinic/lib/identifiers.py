"""Check digits for identifiers the clinic records.

NPI (National Provider Identifier): ten digits, the last a Luhn check digit
computed over the prefix 80840 followed by the first nine digits (CMS, "NPI
check digit", 45 CFR 162.406; ISO/IEC 7812). Standard library only.
"""

NPI_PREFIX = "80840"


def _luhn_check_digit(payload: str) -> int:
    total = 0
    # Double every second digit from the right of the payload (the check digit
    # will sit to its right).
    for position, char in enumerate(reversed(payload)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def npi_error(value: str) -> str | None:
    """Why `value` is not a valid NPI, or None when it is."""
    if len(value) != 10 or not value.isascii() or not value.isdigit():
        return "An NPI is exactly 10 digits."
    if value[0] not in "12":
        return "An NPI starts with 1 or 2."
    if _luhn_check_digit(NPI_PREFIX + value[:9]) != int(value[9]):
        return "This NPI's check digit is wrong; check for a mistyped digit."
    return None


def is_valid_npi(value: str) -> bool:
    return npi_error(value) is None


def complete_npi(first_nine: str) -> str:
    """The NPI whose first nine digits are `first_nine` (for synthetic data)."""
    if len(first_nine) != 9 or not first_nine.isdigit():
        raise ValueError("first_nine must be nine digits")
    return first_nine + str(_luhn_check_digit(NPI_PREFIX + first_nine))
