"""Staff accounts, sessions and the audit log of the staff console."""
