"""The clinic's own answers through the REST channel: its details from config/clinic.yml (issue 15)."""

import pytest

from clinic.details import load_clinic_file
from tests.integration.chat import new_sender, texts

pytestmark = pytest.mark.integration

DETAILS, SCHEDULE = load_clinic_file()


def test_asking_for_a_person_gives_the_clinics_number(assistant):
    reply = texts(assistant.say(new_sender(), "can I talk to a real person please"))
    assert f"call us on {DETAILS.phone}" in reply, reply
    assert "{" not in reply


def test_the_red_flag_advice_is_the_clinics_emergency_advice(assistant):
    reply = texts(assistant.say(new_sender(), "I have a white bump and it's been bleeding a lot"))
    emergency = DETAILS.emergency
    assert f"{emergency.doctor} promptly or call {emergency.advice_line}" in reply, reply
    assert f"call {emergency.emergency_number} or go to {emergency.emergency_department}" in reply
