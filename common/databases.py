"""The DATABASES aliases that the settings and the apps share."""

# The alias of DATABASE_REPLICA_URL, the optional read replica (consent.audit.replica).
REPLICA = "replica"
