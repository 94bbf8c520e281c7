"""Hardening of the Rasa server: fault tolerance, hostile input, rate limits, masked logs.

`clinic-rasa` (launcher.py) is the `rasa` command with these installed; `make run` and the tests use it.
"""
