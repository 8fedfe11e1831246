"""Infusion sessions: dose math, vital signs and alarms, recovery and discharge."""
