"""What tests and benchmarks start: the real servers on free ports, private databases, a fake Twilio.

Used by tests/ and scripts/bench*.py, never by the running assistant. `servers` starts the action server,
the Rasa server and the web app as `make run` does; `supervised` runs the real run scripts under
supervisord; `postgres` a private PostgreSQL server; `twilio_fake` signs webhook requests as Twilio does
and fakes its Messages REST API.
"""
