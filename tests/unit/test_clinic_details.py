"""The clinic's details from config/clinic.yml, filled into the responses as the Rasa server says them."""

import asyncio
import copy
import os
import re
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from clinic.booking.schedule import ScheduleFileError, parse_schedule
from clinic.details import (
    CONFIG_PLACEHOLDERS,
    ClinicFile,
    is_config_placeholder,
    load_clinic_file,
    parse_details,
    placeholders,
    response_values,
    today_words,
    week_words,
)
from clinic.nlg import ClinicResponses

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config" / "clinic.yml"
# A Wednesday, 10:30 in London (winter: UTC).
WEDNESDAY_MORNING = datetime(2026, 12, 2, 10, 30, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def real_domain() -> Domain:
    return Domain.load(str(ROOT / "domain"))


def raw_config() -> dict:
    return yaml.safe_load(CONFIG.read_text(encoding="utf-8"))


def render(domain: Domain, name: str, generator: ClinicResponses, slots=None, **kwargs) -> str:
    tracker = DialogueStateTracker.from_events("patient", [], slots=domain.slots)
    for slot, value in (slots or {}).items():
        tracker.slots[slot].value = value
    said = asyncio.run(generator.generate(name, tracker, "rest", **kwargs))
    return said["text"]


def test_the_shipped_details_are_the_placeholders_the_clinic_fills_in():
    details, _ = load_clinic_file(CONFIG)
    assert details.phone.startswith("020 7946 0")  # an Ofcom drama number, never a real line
    assert details.email.endswith(".example") and ".example" in details.website
    assert (details.emergency.advice_line, details.emergency.emergency_number) == ("NHS 111", "999")
    assert details.emergency.emergency_department == "A&E"
    assert "THE CLINIC'S TO FILL IN" in CONFIG.read_text(encoding="utf-8")


@pytest.mark.parametrize("key", ["name", "phone", "email", "address", "website"])
def test_a_missing_detail_is_named(key):
    raw = raw_config()
    del raw["clinic"][key]
    with pytest.raises(ScheduleFileError, match=f"clinic.{key}"):
        parse_details(raw)


def test_a_missing_emergency_line_is_named():
    raw = raw_config()
    raw["clinic"]["emergency"]["advice_line"] = " "
    with pytest.raises(ScheduleFileError, match="clinic.emergency.advice_line"):
        parse_details(raw)
    with pytest.raises(ScheduleFileError, match="needs a `clinic:` block"):
        parse_details({"timezone": "Europe/London"})


def test_opening_hours_in_words():
    schedule = parse_schedule(raw_config())
    assert week_words(schedule) == (
        "Mon-Tue 9am-5pm, Wed 9am-7pm, Thu-Fri 9am-5pm, Sat 10am-2pm, Sun closed"
    )
    assert today_words(schedule, WEDNESDAY_MORNING) == "Today (Wednesday) we're open 9am-7pm; we're open now."
    sunday = datetime(2026, 12, 6, 12, tzinfo=timezone.utc)
    assert today_words(schedule, sunday) == "We're closed today (Sunday); we open again tomorrow at 9am."
    christmas = datetime(2026, 12, 24, 12, tzinfo=timezone.utc)  # Christmas Eve to Boxing Day, then Sunday
    assert today_words(schedule, christmas) == "We're closed today (Thursday); we open again Monday at 9am."
    evening = datetime(2026, 12, 1, 18, tzinfo=timezone.utc)
    assert today_words(schedule, evening).endswith("we've closed for the day.")


def test_services_with_duration_and_price():
    details, schedule = load_clinic_file(CONFIG)
    services = response_values(details, schedule, WEDNESDAY_MORNING)["services"].splitlines()
    assert services == [
        "Milia extraction (de-roofing): 30 minutes, £60",
        "Skin consultation: 30 minutes, £40",
        "IMAGE Skincare facial: 60 minutes, £85",
    ]


def test_every_placeholder_the_values_give_is_declared():
    details, schedule = load_clinic_file(CONFIG)
    values = response_values(details, schedule, WEDNESDAY_MORNING)
    services = {f"treatment_{s.code}" for s in schedule.services}
    assert set(values) == CONFIG_PLACEHOLDERS | services
    assert values["treatment_facial"] == "60 minutes, £85" and all(is_config_placeholder(k) for k in values)


def test_every_call_the_clinic_answer_gives_the_number(real_domain):
    generator = ClinicResponses(domain=real_domain)
    phone = generator.clinic_file.values(WEDNESDAY_MORNING)["clinic_phone"]
    asking_to_call = re.compile(r"\b(call|contact|phone)\b.{0,30}\b(us|clinic|reception)\b", re.IGNORECASE)
    checked = 0
    for name, variants in real_domain.responses.items():
        for variant in variants:
            if asking_to_call.search(variant.get("text", "")):
                assert "{clinic_phone}" in variant["text"], name
                checked += 1
    assert checked >= 11
    said = render(real_domain, "utter_booking_unavailable", generator)
    assert phone in said and "{" not in said


def test_the_urgent_advice_comes_from_the_config(real_domain, tmp_path):
    generator = ClinicResponses(domain=real_domain)
    said = render(real_domain, "utter_red_flag_advice", generator)
    assert "your GP promptly or call NHS 111" in said and "call 999 or go to A&E" in said
    raw = raw_config()
    raw["clinic"]["emergency"].update(advice_line="the out-of-hours line", emergency_number="112",
                                      emergency_department="the emergency department")
    other = tmp_path / "clinic.yml"
    other.write_text(yaml.safe_dump(raw), encoding="utf-8")
    abroad = ClinicResponses(domain=real_domain, clinic_file=ClinicFile(other))
    said = render(real_domain, "utter_red_flag_advice", abroad)
    assert "call the out-of-hours line" in said and "call 112 or go to the emergency department" in said
    assert "NHS" not in said and "999" not in said


def test_no_response_keeps_a_config_placeholder_unfilled(real_domain):
    generator = ClinicResponses(domain=real_domain)
    for name, variants in real_domain.responses.items():
        for variant in variants:
            text = variant.get("text", "")
            if not any(is_config_placeholder(key) for key in placeholders(text)):
                continue
            slots = {c["name"]: c["value"] for c in variant.get("condition", [])}
            action_values = {key: "x" for key in placeholders(text) if not is_config_placeholder(key)}
            said = render(real_domain, name, generator, slots=slots, **action_values)
            assert not any(is_config_placeholder(key) for key in placeholders(said)), (name, said)


def test_an_actions_own_value_wins_and_slots_still_fill(real_domain):
    generator = ClinicResponses(domain=real_domain)
    said = render(real_domain, "utter_booking_no_times", generator, days="60")
    assert "next 60 days" in said and "020 7946 0" in said


def test_a_changed_file_is_read_again_and_a_broken_edit_keeps_the_last_good_one(tmp_path):
    path = tmp_path / "clinic.yml"
    raw = raw_config()
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    clinic_file = ClinicFile(path)
    assert clinic_file.values(WEDNESDAY_MORNING)["clinic_phone"] == "020 7946 0321"
    raw["clinic"]["phone"] = "020 7946 0999"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    later = time.time() + 5
    os.utime(path, (later, later))
    assert clinic_file.values(WEDNESDAY_MORNING)["clinic_phone"] == "020 7946 0999"
    broken = copy.deepcopy(raw)
    del broken["clinic"]["phone"]
    path.write_text(yaml.safe_dump(broken), encoding="utf-8")
    os.utime(path, (later + 5, later + 5))
    assert clinic_file.values(WEDNESDAY_MORNING)["clinic_phone"] == "020 7946 0999"


def test_a_server_never_starts_without_the_clinics_details(tmp_path):
    path = tmp_path / "clinic.yml"
    raw = raw_config()
    del raw["clinic"]
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(ScheduleFileError, match="clinic:"):
        ClinicFile(path)
