"""Small shared helpers, each module named for what it does."""
