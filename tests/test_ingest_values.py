"""Reading messy source values: list letters, non-breaking spaces, dates, IDs, yes/no, sex codes."""

from __future__ import annotations

import datetime as dt

import pytest

from ingest import values
from ingest.values import NotUnderstood


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (dt.datetime(2020, 9, 16, 0, 0), dt.date(2020, 9, 16)),
        ("2024-03-31", dt.date(2024, 3, 31)),
        ("2023-05-23T11:14:05", dt.date(2023, 5, 23)),
        ("27/03/2008", dt.date(2008, 3, 27)),
        ("1/2/2008", dt.date(2008, 2, 1)),
        ("27-03-2008", dt.date(2008, 3, 27)),
        (44000, dt.date(2020, 6, 18)),  # an Excel serial date
        ("", None),
        ("\xa0", None),
        ("#N/A", None),
        (None, None),
    ],
)
def test_dates(raw, expected):
    assert values.date(raw) == expected


@pytest.mark.parametrize("raw", ["=H2+5", "31/02/2020", "next Tuesday", "2020-13-01"])
def test_dates_not_understood(raw):
    with pytest.raises(NotUnderstood):
        values.date(raw)


def test_formula_message_says_what_to_do():
    with pytest.raises(NotUnderstood, match="formula with no saved value"):
        values.date("=H2+5")


def test_identifiers_are_strings():
    assert values.ident(9212044) == "9212044"
    assert values.ident(1234.0) == "1234"
    assert values.ident("1234.0") == "1234"
    assert values.ident(" DfEX0000001\xa0") == "DfEX0000001"
    assert values.ident("") is None


def test_text_cleans_spaces_and_excel_errors():
    assert values.text("Dustin\xa0Hazlett") == "Dustin Hazlett"
    assert values.text("  Locality  4 ") == "Locality 4"
    assert values.text("#N/A") is None


@pytest.mark.parametrize(
    ("raw", "allowed", "expected"),
    [
        ("q) 6: Police", ["6", "1A"], "6"),
        ("b) 1B: Individual", ["6", "1B"], "1B"),
        ("a) WBRI", ["WBRI"], "WBRI"),
        ("wbri", ["WBRI"], "WBRI"),
        ("N1 - Abuse or Neglect", ["N1"], "N1"),
        ("f) U6: Foster placement - not FFA", ["U6"], "U6"),
        ("E1: Placement order", ["E1"], "E1"),
    ],
)
def test_codes_with_list_letters(raw, allowed, expected):
    assert values.code(raw, allowed) == expected


def test_code_words_and_unknown_codes():
    words = {"physical abuse": "PHY"}
    assert values.code("Physical abuse", ["PHY"], words) == "PHY"
    with pytest.raises(NotUnderstood):
        values.code("PSRMEM - Support with memory", ["N1"])
    assert values.raw_code("PSRMEM - Support with memory") == "PSRMEM"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", "M"), ("2", "F"), (1, "M"), ("0", "U"), ("9", "U"), ("a) Male", "M"), ("Female", "F"),
     ("c) Not stated/recorded", "U"), ("M", "M")],
)  # fmt: skip
def test_sex_codes_old_and_new(raw, expected):
    assert values.sex(raw) == expected


def test_yes_no():
    assert values.yes_no("a) Yes") is True
    assert values.yes_no("b) No") is False
    assert values.yes_no("true") is True
    assert values.yes_no("0") is False
    assert values.yes_no("") is None
    with pytest.raises(NotUnderstood):
        values.yes_no("CS Assessment Updated")


def test_postcode_district():
    assert values.postcode_district("EG19 7TT") == "EG19"
    assert values.postcode_district("wv279fw") == "WV27"
    assert values.postcode_district("nope") is None
