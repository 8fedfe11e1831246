"""The API's one pagination: ninja's page numbers, bounded.

An unbounded `page` became an OFFSET the database cannot hold
(`?page=9223372036854775807` answered a 500). Past MAX_PAGE the answer is a 422
problem document naming `page`; a page past the end is an empty page.
"""

from ninja import Field, Schema
from ninja.pagination import PageNumberPagination

MAX_PAGE = 1_000_000
MAX_PAGE_SIZE = 100


class Pages(PageNumberPagination):
    class Input(Schema):
        page: int = Field(1, ge=1, le=MAX_PAGE)
        page_size: int | None = Field(None, ge=1, le=MAX_PAGE_SIZE)
