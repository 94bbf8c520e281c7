"""The attacker's suite: each test is a request as an attacker would send it, against the real servers.

The servers are the shared ones of tests/conftest.py (`assistant`, `web_app`, `fake_twilio`), started as
`make run` starts them; a test that needs another configuration starts its own.
"""
