"""Outcomes pages: the booster and follow-up worklists, the rules, the director's reports."""
