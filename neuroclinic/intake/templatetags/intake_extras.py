from collections.abc import Mapping

from django import template

register = template.Library()


@register.filter
def get_item(mapping: object, key: str) -> object:
    """`data|get_item:name`: a mapping's value by a variable key ("" when absent)."""
    if isinstance(mapping, Mapping):
        return mapping.get(key, "")
    return ""
