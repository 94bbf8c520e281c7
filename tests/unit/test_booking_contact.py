"""Names, contacts and references: validated, normalised, and never anything else."""

import pytest

from clinic.booking.contact import Contact, InvalidContact, InvalidName, parse_contact, parse_name
from clinic.booking.reference import find_reference, new_reference


@pytest.mark.parametrize(
    "text, name",
    [
        ("Jane Smith", "Jane Smith"),
        ("my name is  jane   o'neill", "jane o'neill"),
        ("I'm Anne-Marie Dubois-Leroy", "Anne-Marie Dubois-Leroy"),
        ("Zoë Ødegård", "Zoë Ødegård"),
        ("Dr. A. N. Other", "Dr. A. N. Other"),
        ("李小龍", "李小龍"),
    ],
)
def test_names(text, name):
    assert parse_name(text) == name


@pytest.mark.parametrize(
    "text, reason",
    [
        ("", "empty"),
        ("my name is", "empty"),
        ("a" * 5000, "too_long"),
        ("Robert'); DROP TABLE bookings;--", "not_a_name"),
        ("07911 123456", "not_a_name"),
        ("<script>alert(1)</script>", "not_a_name"),
        ("jane@example.com", "not_a_name"),
        ("one two three four five six seven", "not_a_name"),
        ("yes", "not_a_name"),
        ("Okay!", "not_a_name"),
    ],
)
def test_bad_names(text, reason):
    with pytest.raises(InvalidName) as error:
        parse_name(text)
    assert error.value.reason == reason


@pytest.mark.parametrize(
    "text, contact",
    [
        ("07911 123456", Contact("phone", "+447911123456")),
        ("my mobile is +44 (0)7911-123-456", Contact("phone", "+447911123456")),
        ("0044 7911 123456", Contact("phone", "+447911123456")),
        ("+33 6 12 34 56 78", Contact("phone", "+33612345678")),
        ("Jane.Doe+clinic@Example.COM", Contact("email", "jane.doe+clinic@example.com")),
        ("you can email me at jane@example.co.uk thanks", Contact("email", "jane@example.co.uk")),
    ],
)
def test_contacts_are_normalised(text, contact):
    assert parse_contact(text, "GB") == contact


@pytest.mark.parametrize(
    "text, reason",
    [
        ("", "empty"),
        ("12345", "not_a_number"),
        ("call me maybe", "not_a_number"),
        ("020 7946 0000", "landline"),
        ("jane@", "not_an_email"),
        ("' OR 1=1; --@x", "not_an_email"),
        ("9" * 5000, "too_long"),
    ],
)
def test_bad_contacts(text, reason):
    with pytest.raises(InvalidContact) as error:
        parse_contact(text, "GB")
    assert error.value.reason == reason


def test_default_region_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("CLINIC_PHONE_REGION", "FR")
    assert parse_contact("06 12 34 56 78").value == "+33612345678"
    monkeypatch.delenv("CLINIC_PHONE_REGION")
    assert parse_contact("07911 123456").value == "+447911123456"


def test_phone_is_displayed_readably():
    assert Contact("phone", "+447911123456").display() == "+44 7911 123456"


def test_references_are_short_readable_and_found_in_typed_text():
    references = {new_reference() for _ in range(2000)}
    # 25^6 references: two of 2,000 collide in about 1 run in 120 (the database's unique key decides then)
    assert len(references) >= 1995
    for reference in list(references)[:50]:
        assert len(reference) == 9 and reference.startswith("VW-")
        assert not set(reference[3:]) & set("0O1IL2Z5S8B")
        assert find_reference(f"my ref is {reference[3:].lower()}") == reference
        assert find_reference(reference.replace("-", " ")) == reference
    assert find_reference("please cancel my booking") is None
    assert find_reference("ACCEPT") is None  # a word, not a reference
    assert find_reference("' OR 1=1 --") is None
