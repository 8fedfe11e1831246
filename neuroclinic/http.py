"""Typed requests, so `request.user` and `request.htmx` type-check under --strict."""

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from neuroclinic.accounts.models import User


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


class AuthenticatedHttpRequest(HtmxHttpRequest):
    user: User  # narrowed: views behind require_capability
