"""The append-only, hash-chained audit log: `record()` and verification."""
