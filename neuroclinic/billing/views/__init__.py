"""Staff billing pages, one module per sub-domain (account, documents, setup, reports)."""
