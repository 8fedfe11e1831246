import pytest

from neuroclinic.lib.identifiers import complete_npi, is_valid_npi, npi_error


@pytest.mark.parametrize(
    "npi",
    [
        "1234567893",  # CMS's worked example of the check digit
        "1245319599",
        "1003000126",
        complete_npi("198765432"),
    ],
)
def test_valid_npis_pass(npi: str) -> None:
    assert is_valid_npi(npi)


@pytest.mark.parametrize(
    ("npi", "message"),
    [
        ("1234567890", "check digit"),
        ("1234567894", "check digit"),
        ("123456789", "exactly 10 digits"),
        ("12345678931", "exactly 10 digits"),
        ("12345678a3", "exactly 10 digits"),
        (
            "\uff13\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19\uff13",
            "exactly 10 digits",
        ),  # full-width digits
        ("3234567893", "starts with 1 or 2"),
        ("", "exactly 10 digits"),
    ],
)
def test_invalid_npis_say_why(npi: str, message: str) -> None:
    error = npi_error(npi)

    assert error is not None
    assert message in error


def test_every_single_digit_typo_is_caught() -> None:
    valid = "1234567893"
    for position in range(10):
        for digit in "0123456789":
            if digit == valid[position]:
                continue
            typo = valid[:position] + digit + valid[position + 1 :]
            assert not is_valid_npi(typo), typo
