"""Outcomes writes: booster rules and suggestions, post-series follow-up tasks."""
