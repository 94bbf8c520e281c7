"""Vitawell clinic: triage logic, understanding helpers, persistence and tools, free of Rasa imports."""
