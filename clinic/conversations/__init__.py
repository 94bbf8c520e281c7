"""Conversations as Rasa's SQL tracker store keeps them, read without importing Rasa."""
