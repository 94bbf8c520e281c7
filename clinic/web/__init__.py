"""The clinic's web app on port 8000: the chat widget and the staff console."""
