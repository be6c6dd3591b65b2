"""Audit, for the auditor: the audit views, exports and their proofs, statistics and their charts,
verification of the log, the retention purge, and the read replica they read from.

Nothing else in the app imports it; it reads the log and the records."""
