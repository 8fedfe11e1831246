"""Staff accounts, roles, two-factor sign-in and API tokens."""
