"""Code lists and their labels are declared once, in schemas/codes.toml, and agree."""

import pytest

from schemas.codes import cin_factor_codes, cin_factor_labels, cin_factor_year, codes, labels


@pytest.mark.parametrize("name", ["referral_source", "primary_need", "closure_reason", "cp_category", "visit_type"])
def test_every_code_has_words_and_every_label_a_code(name):
    assert set(labels(name)) == set(codes(name))


def test_every_cin_factor_has_a_label_including_retired_codes():
    newest = cin_factor_year()
    assert set(cin_factor_codes()) | set(newest["retired"]) <= set(cin_factor_labels())
    assert "8A" in newest["invalid"] and "8A" not in cin_factor_labels()


def test_factor_list_is_versioned_by_collection_year():
    assert "24A" in cin_factor_codes(2022) and "24A" not in cin_factor_codes(2021)
    assert cin_factor_codes() == cin_factor_codes(2030)  # the newest list stays in force


def test_code_label_macro(tiny_engine):
    rows = tiny_engine.con.sql(
        "SELECT code_label('primary_need', 'N1'), code_label('cin_factor', '4B'), code_label('primary_need', 'ZZ')"
    ).fetchall()
    assert rows == [("Abuse or neglect", "Mental health: parent or carer", "ZZ")]
