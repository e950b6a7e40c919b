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


# --- codes written as words (ingest/code_words.toml and the labels of schemas/codes.toml) -------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Child's disability/illness", "childs disability illness"),
        ("CHILD\u2019S DISABILITY (ILLNESS)", "childs disability illness"),
        ("Individual \u2013 self", "individual self"),
        ("LA services: early help", "la services early help"),
        ("b) A&E", "a and e"),
        ("p1) 5D: LA services", "5d la services"),
        ("  Health\u00a0services \u2014 GP. ", "health services gp"),
        (None, ""),
    ],
)
def test_word_key_ignores_case_spacing_and_punctuation(raw, expected):
    assert values.word_key(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("School", "2A"), ("Schools", "2A"), ("e) 2A: Schools", "2A"), ("Police", "6"), ("q) 6: Police", "6"),
        ("Anonymous", "9"), ("Unknown", "10"), ("Self", "1C"), ("Individual \u2013 self", "1C"),
        ("Individual: family member, relative or carer", "1A"), ("Neighbour", "1B"), ("Individual", "1D"),
        ("Health", "3F"), ("Health services", "3F"), ("Health services - GP", "3A"), ("GP", "3A"),
        ("Health visitor", "3B"), ("School nurse", "3C"), ("A&E", "3E"), ("Accident and emergency", "3E"),
        ("LA services", "5B"), ("LA services: early help", "5D"), ("Early help", "5D"), ("Other LA", "5C"),
        ("Adult social care", "5A"), ("Housing", "4"), ("CAFCASS", "7"), ("Other legal agency", "7"),
        ("Voluntary organisation", "8"), ("Other", "8"), ("j) 3D: Health services", "3D"),
    ],
)  # fmt: skip
def test_referral_source_words(raw, expected):
    assert values.coded(raw, "referral_source") == expected


@pytest.mark.parametrize(
    ("list_name", "raw", "expected"),
    [
        ("primary_need", "Abuse or neglect", "N1"),
        ("primary_need", "Abuse & neglect", "N1"),
        ("primary_need", "Child's disability or illness", "N2"),
        ("primary_need", "Childs Disability", "N2"),
        ("primary_need", "Parental illness/disability", "N3"),
        ("primary_need", "family in acute stress", "N4"),
        ("primary_need", "N5 - Family dysfunction", "N5"),
        ("primary_need", "Socially unacceptable behavior", "N6"),
        ("primary_need", "Absent parenting", "N8"),
        ("cp_category", "Neglect", "NEG"),
        ("cp_category", "Physical abuse", "PHY"),
        ("cp_category", "b) Sexual Abuse", "SAB"),
        ("cp_category", "Emotional", "EMO"),
        ("cp_category", "Multiple/not recommended", "MUL"),
        ("cp_category", "Multiple (not recommended)", "MUL"),
        ("ssda903_legal_status", "Full care order", "C2"),
        ("ssda903_legal_status", "C2: FCO", "C2"),
        ("ssda903_legal_status", "Interim Care Order", "C1"),
        ("ssda903_legal_status", "Section 20", "V2"),
        ("ssda903_legal_status", "S.20", "V2"),
        ("ssda903_legal_status", "Placement order granted", "E1"),
        ("ssda903_legal_status", "Emergency protection order (EPO)", "L2"),
        (
            "ssda903_legal_status",
            "Accommodated under an agreed series of short-term breaks, when agreements are "
            "recorded (NOT individual episodes of care)",
            "V4",
        ),
        ("ssda903_placement", "Foster placement with relative or friend: long-term fostering", "U1"),
        (
            "ssda903_placement",
            "Foster placement with other foster carer: not long-term or fostering for adoption",
            "U6",
        ),
        ("ssda903_placement", "Foster placement - not FFA", "U6"),
        ("ssda903_placement", "Children's home", "K2"),
        ("ssda903_placement", "Childrens Homes", "K2"),
        ("ssda903_placement", "Secure children's home", "K1"),
        ("ssda903_placement", "Placed with parents", "P1"),
        ("ssda903_placement", "Semi-independent living", "H5"),
        ("closure_reason", "Special guardianship order", "RC4"),
        ("closure_reason", "Stepped down to early help", "RC9"),
        ("contact_outcome", "EH Referral", "early_help"),
        ("contact_outcome", "Information and Advice", "advice"),
        ("contact_outcome", "No Further Action", "no_further_action"),
        ("missing_type", "Missing", "M"),
        ("missing_type", "Away from placement without authorisation", "A"),
        ("cla_review_participation", "PN1", "PN1"),
        ("care_leaver_in_touch", "a) Yes", "YES"),
        ("care_leaver_in_touch", "d) Refu", "REFU"),
        ("care_leaver_in_touch", "Refused contact", "REFU"),
        ("care_leaver_in_touch", "No longer requires services", "NREQ"),
        ("care_leaver_activity", "F1: Full time in higher education", "F1"),
        ("care_leaver_activity", "Full time in education other than higher", "F2"),
        ("care_leaver_activity", "Apprenticeship, full time", "F4"),  # the DfE code, not codes.toml's label
        ("care_leaver_activity", "Training or employment, part time", "P5"),
        ("care_leaver_activity", "F3: Full time in training or employment", "F5"),  # replaced (retired in 2017)
        ("care_leaver_activity", "P3", "P5"),
        ("care_leaver_activity", "NEET", "G5"),
        ("care_leaver_activity", "G6: Not in education, employment or training - pregnancy or parenting", "G6"),
        ("care_leaver_accommodation", "Y: Other accommodation", "Y"),
        ("care_leaver_accommodation", "Bed & breakfast", "W"),
        ("care_leaver_accommodation", "No fixed abode/homeless", "S"),
        ("care_leaver_accommodation", "Staying put", "Z"),
    ],
)
def test_words_of_each_list(list_name, raw, expected):
    assert values.coded(raw, list_name) == expected


@pytest.mark.parametrize(
    ("list_name", "raw"),
    [
        ("referral_source", "Polce"),  # a typing slip
        ("referral_source", "Police (Merseyside)"),  # more than the words listed
        ("referral_source", "Health services - dentist"),  # starts like a group, is not one of its codes
        ("referral_source", "Schooling"),
        ("primary_need", "Disability"),  # the child's or a parent's? not guessed
        ("primary_need", "PSRMEM - Support with memory and cognition"),
        ("cp_category", "Abuse"),
        ("cp_category", "Neglect and physical abuse"),
        ("ssda903_legal_status", "Care order (interim)"),
        ("ssda903_legal_status", "Section 2"),
        ("ssda903_placement", "Foster placement"),  # which of U1-U6? not guessed
        ("care_leaver_activity", "Full time"),
        ("care_leaver_accommodation", "With a friend"),
    ],
)
def test_near_misses_are_not_understood(list_name, raw):
    with pytest.raises(NotUnderstood):
        values.coded(raw, list_name)


def test_blank_is_none_and_retired_codes_are_kept():
    assert values.coded("  ", "referral_source") is None
    assert values.coded("Q1", "ssda903_placement") == "Q1"  # the validator warns on it


def test_words_come_from_labels_and_the_declared_table():
    source = values.words("referral_source")
    assert source["individual acquaintance"] == "1B"  # codes.toml label "Individual: acquaintance"
    assert source["la services"] == "5B"  # ingest/code_words.toml
    assert values.words("sex") == {}  # a list with no labels and no declared words
    assert values.words("ssda903_legal_status")["full care order"] == "C2"
    assert values.replaced("care_leaver_activity") == {"F3": "F5", "P3": "P5"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("K1", ("K", True)), ("K2", ("K", False)), ("z1", ("Z", True)), ("U", ("U", None)),
        ("U: Independent living", ("U", None)), ("Semi-independent", ("D", None)), ("0", (None, None)),
        ("", (None, None)),
    ],
)  # fmt: skip
def test_accommodation_letter_and_suitability(raw, expected):
    assert values.accommodation(raw) == expected


@pytest.mark.parametrize("raw", ["01", "Q1", "A2", "Flat"])
def test_accommodation_not_understood(raw):
    with pytest.raises(NotUnderstood):
        values.accommodation(raw)


def test_suitability():
    assert [values.suitable(v) for v in ["a) Suitable", "b) Unsuitable", "Not suitable", "1", "2", "Yes", "n", ""]] == [
        True, False, False, True, False, True, False, None,
    ]  # fmt: skip
    with pytest.raises(NotUnderstood):
        values.suitable("Mostly")


def test_words_before_a_colon_name_the_code():
    # The SSD writes a multiple-category plan with its categories after a colon.
    assert values.coded("Multiple: Neglect, Emotional abuse", "cp_category") == "MUL"
    with pytest.raises(values.NotUnderstood):
        values.coded("Several: Neglect", "cp_category")
