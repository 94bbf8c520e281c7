"""The clinic's dialogue policies: Rasa graph components over the pure rules in clinic/safety.py."""
