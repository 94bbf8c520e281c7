"""Messaging channels of the assistant beyond Rasa's built-in ones (SMS and WhatsApp through Twilio)."""
