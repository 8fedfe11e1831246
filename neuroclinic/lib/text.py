"""Text normalisation for search keys."""

import unicodedata


def search_key(value: str) -> str:
    """Lower-case, accent-free form of a name, for prefix search.

    "Zoë O'Brien" -> "zoe o'brien": what a user types finds what was stored.
    """
    decomposed = unicodedata.normalize("NFKD", value)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.casefold().split())


def digits(value: str) -> str:
    return "".join(c for c in value if c.isdigit())


def phone_search_key(value: str) -> str:
    """The national number of a US phone (its last ten digits) reversed, for search.

    Reversed so that a prefix search finds a number by its last digits: typing
    "555-0138" finds (511) 555-0138, from an index.
    """
    return digits(value)[-10:][::-1]
