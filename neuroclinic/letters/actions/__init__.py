"""Every write to letters: templates (versions), drafts, signatures, sends. See billing's actions
for the conventions (one transaction, one audit event, LettersError on refusal, `by=` last)."""
