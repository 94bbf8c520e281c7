"""The staff console's configuration: `StaffSettings`, a view of the clinic's settings (clinic.config)."""

from clinic.config import StaffSettings

__all__ = ["StaffSettings"]
