"""The clinic's own NLU pieces: the spaCy pipeline builder and the Rasa entity component."""
