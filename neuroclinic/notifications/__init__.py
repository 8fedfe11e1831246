"""Staff notifications: an in-app inbox, with email for what cannot wait."""
