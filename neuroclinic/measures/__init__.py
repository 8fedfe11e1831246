"""Measurement-based care: questionnaire definitions, pure scoring and outcome rules."""
