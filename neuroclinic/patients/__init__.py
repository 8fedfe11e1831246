"""Patient identity, contacts, care team, diagnoses, medications, allergies; `visible_to`."""
