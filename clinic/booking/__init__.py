"""Booking at the Vitawell clinic, free of Rasa: schedule, availability, parsing, storage.

- `schedule`: the clinic's editable file (services, opening hours, closed days, practitioners)
- `availability`: free times computed from a schedule snapshot and the slots already held
- `parsing`: patients' dates and times ("next Tuesday afternoon", "2 Dec at 3pm")
- `contact`: names, mobile numbers (E.164) and emails, validated
- `reference`: short human-readable booking references
- `repository`, `unit_of_work`: SQLAlchemy storage, one session per unit of work
- `handlers`: the operations the assistant, the CLI and the staff console call
"""
