"""Neuroclinic: software for an interventional-psychiatry clinic."""
