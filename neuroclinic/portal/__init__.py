"""Patient-facing pages: questionnaires by link and on the clinic tablet. No models of its own."""
