"""@mentions resolved to members: by email, or by name written without spaces."""
from __future__ import annotations

from chalicelib.approval.directory import Member, mentioned

DANA = Member("key:k1", "Dana Reyes", "admin")
SAM = Member("user:u2", "Sam", "editor", "sam@agency.example")


def test_a_name_without_spaces_in_any_case_or_separator_names_the_member_once() -> None:
    found, unknown = mentioned("@dana-reyes and @DanaReyes, and @dana_reyes.", [DANA, SAM])
    assert (found, unknown) == ([DANA], [])


def test_an_email_names_the_member_and_unknown_names_are_reported() -> None:
    found, unknown = mentioned("cc @sam@agency.example @nobody", [DANA, SAM])
    assert (found, unknown) == ([SAM], ["nobody"])


def test_an_email_address_in_the_text_is_not_a_mention() -> None:
    assert mentioned("write to dana@brand.example", [DANA]) == ([], [])
