"""CIN census XML: both public samples, older schema years, and broken or hostile files."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from ingest import run_import
from schemas.validate import validate_path

FIXTURES = Path(__file__).parent / "fixtures" / "cin_census"
NESTED = FIXTURES / "CIN_Census_2024.xml"
FLAT = FIXTURES / "fake_CIN_data.xml"


def failing_checks(folder: Path) -> set[tuple[str, str, str]]:
    return {(f.table, f.column, f.check) for f in validate_path(folder).errors}


def read(folder: Path, table: str) -> pl.DataFrame:
    return pl.read_parquet(folder / f"{table}.parquet")


def test_nested_sample_fills_every_casework_table(tmp_path):
    out = tmp_path / "x"
    report = run_import("cin-census", NESTED, out, private=False)
    assert report.ok, report.error
    assert {t: c.mapped for t, c in report.tables.items()} == {
        "children": 2, "referrals": 2, "assessments": 2, "factors": 3, "section47": 1,
        "cp_plans": 1, "cp_reviews": 1, "cin_plans": 1, "teams": 1, "workers": 0,
    }  # fmt: skip
    children = read(out, "children").sort("child_id")
    assert children["child_id"].to_list() == ["DfEX0000001", "child_fails_assessments"]
    assert children["sex"].to_list() == ["M", "M"]  # Sex 1, and a plain 'M'
    assert children["disability"].to_list() == [True, False]  # HAND/HEAR; NONE
    assert children.schema["birth_date"] == pl.Date
    assert children["birth_date"][0] == dt.date(2015, 3, 27)
    referral = read(out, "referrals").filter(pl.col("child_id") == "DfEX0000001").row(0, named=True)
    assert referral["referral_date"] == dt.date(2022, 10, 6) and referral["source"] == "1A"
    assert referral["nfa"] is False and referral["closure_reason"] == "RC1" and referral["team_id"] == "UNKNOWN"
    plan = read(out, "cp_plans").row(0, named=True)
    assert (plan["initial_category"], plan["end_date"]) == ("PHY", dt.date(2023, 3, 14))
    assert read(out, "cp_reviews")["review_date"].to_list() == [dt.date(2023, 2, 15)]
    s47 = read(out, "section47").row(0, named=True)
    assert s47["icpc_not_required"] is False and s47["icpc_date"] == dt.date(2022, 6, 17)
    factors = read(out, "factors")
    assert sorted(factors["factor_code"]) == ["1C", "6B", "RB"]
    assert set(factors["source"]) == {"assessment"}
    # The unknown factor code is reported, with where it was and never whose it was.
    [problem] = report.problems
    assert (problem.table, problem.column, problem.value) == ("factors", "factor_code", "RB")
    assert problem.where == "child 1, CINdetails 1, Assessments 1"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["as_of"] == "2024-03-31" and manifest["la_code"] == "201"


def test_nested_sample_validates_but_for_the_sources_own_errors(tmp_path):
    run_import("cin-census", NESTED, tmp_path / "x")
    assert failing_checks(tmp_path / "x") == {
        ("referrals", "referral_date", "must not be after the extract's as_of date"),
        ("referrals", "closure_date", "must not be after the extract's as_of date"),
        ("assessments", "authorised_date", "must be on or after start_date"),
        ("assessments", "start_date", "must be on or after its referral's referral_date"),
        ("assessments", "start_date", "must not be after the extract's as_of date"),
        ("factors", "factor_code", "must be a CIN factor code or a local code declared in factor_codes"),
    }


def test_flat_older_sample(tmp_path):
    out = tmp_path / "x"
    report = run_import("cin-census", FLAT, out)
    assert report.ok, report.error
    assert report.tables["children"].mapped == 332 and report.tables["referrals"].mapped == 402
    assert not report.problems  # GenderCurrent 0/1/2/9 are all understood
    children = read(out, "children")
    assert children["sex"].value_counts().height == 3  # M, F and U (0 and 9)
    assert children["child_id"].dtype == pl.String
    # The referral-level file holds no assessments: written, and empty (an honest "none recorded").
    assert read(out, "factors").height == 0 and read(out, "assessments").height == 0
    assert failing_checks(out) == {
        ("referrals", "referral_date", "must not be after the extract's as_of date"),
        ("referrals", "closure_date", "must not be after the extract's as_of date"),
    }


OLD_SCHEMA = """<?xml version="1.0" encoding="utf-8"?>
<Message xmlns="http://www.example.org/cin">
  <Header><CollectionDetails><Collection>CIN</Collection><Year>2013</Year>
    <ReferenceDate>2013-03-31</ReferenceDate></CollectionDetails><Source><LEA>999</LEA></Source></Header>
  <Children>
    <Child>
      <ChildIdentifiers><LAchildID>123</LAchildID><PersonBirthDate>2005-06-01</PersonBirthDate>
        <GenderCurrent>2</GenderCurrent></ChildIdentifiers>
      <ChildCharacteristics><Ethnicity>XXXX</Ethnicity><Disabilities/></ChildCharacteristics>
      <CINdetails>
        <CINreferralDate>2012-05-01</CINreferralDate><ReferralSource>6</ReferralSource>
        <PrimaryNeedCode>N1</PrimaryNeedCode><ReferralNFA>false</ReferralNFA>
        <Assessments>
          <AssessmentActualStartDate>2012-05-02</AssessmentActualStartDate>
          <AssessmentAuthorisationDate>2012-06-10</AssessmentAuthorisationDate>
          <FactorsIdentifiedAtAssessment>
            <AssessmentFactors>18A</AssessmentFactors><AssessmentFactors>19a</AssessmentFactors>
            <AssessmentFactors>18A</AssessmentFactors>
          </FactorsIdentifiedAtAssessment>
        </Assessments>
        <Assessments/>
        <CINPlanDates/>
        <Section47/>
        <ChildProtectionPlans>
          <CPPstartDate>2012-07-01</CPPstartDate><InitialCategoryOfAbuse>NEG</InitialCategoryOfAbuse>
          <Reviews/>
        </ChildProtectionPlans>
      </CINdetails>
      <CINdetails>
        <CINreferralDate>not a date</CINreferralDate><ReferralSource>1A</ReferralSource>
      </CINdetails>
    </Child>
  </Children>
</Message>
"""


def test_older_schema_year_namespaces_and_empty_blocks(tmp_path):
    source = tmp_path / "cin2013.xml"
    source.write_text(OLD_SCHEMA, encoding="utf-8")
    out = tmp_path / "x"
    report = run_import("cin-census", source, out, private=False)
    assert report.ok, report.error
    child = read(out, "children").row(0, named=True)
    assert (child["child_id"], child["sex"], child["ethnicity"], child["disability"]) == ("123", "F", None, False)
    assert sorted(read(out, "factors")["factor_code"]) == ["18A", "19A"]  # retired codes kept, once each
    assert read(out, "assessments").height == 1  # the empty <Assessments/> is not a row
    assert read(out, "cp_plans")["latest_category"].to_list() == ["NEG"]
    assert report.tables["referrals"].dropped == {
        "referral_date could not be read (its assessments, S47s and plans are left out)": 1
    }
    issues = {(p.column, p.value) for p in report.problems}
    assert ("ethnicity", "XXXX") in issues and ("referral_date", "not a date") in issues
    validation = validate_path(out)
    assert validation.is_valid  # the retired codes are only a warning
    assert [(f.table, f.column) for f in validation.warnings] == [("factors", "factor_code")]


def test_truncated_xml_is_a_clear_error(tmp_path):
    source = tmp_path / "cut.xml"
    source.write_bytes(NESTED.read_bytes()[:1500])
    report = run_import("cin-census", source, tmp_path / "x")
    assert not report.ok
    assert "not well-formed XML" in report.error and "cut short" in report.error
    assert not (tmp_path / "x").exists()  # nothing written


def test_entity_declarations_are_refused(tmp_path):
    source = tmp_path / "evil.xml"
    source.write_text(
        '<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]><Message>&x;</Message>'
    )
    report = run_import("cin-census", source, tmp_path / "x")
    assert not report.ok and "refused for safety" in report.error


def hostile_census(padding: str) -> str:
    """A real CIN census whose child ID is an entity, declared after `padding` (allowed before a DOCTYPE)."""
    body = NESTED.read_text(encoding="utf-8")
    assert body.startswith("<Message>")
    body = body.replace("<LAchildID>DfEX0000001</LAchildID>", "<LAchildID>&who;</LAchildID>", 1)
    assert "&who;" in body
    return f'<?xml version="1.0"?>{padding}<!DOCTYPE Message [<!ENTITY who "EXPANDED">]>{body}'


WHITESPACE_100K = " \n" * 51_200  # 100 KiB, past the 64 KiB an earlier check read
COMMENTS_100K = "<!-- padding -->\n" * 6_024  # 100 KiB of comments


@pytest.mark.parametrize("padding", [WHITESPACE_100K, COMMENTS_100K], ids=["whitespace", "comments"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_a_doctype_anywhere_in_any_encoding_is_refused(tmp_path, padding, encoding):
    source = tmp_path / "padded.xml"
    text = hostile_census(padding)
    if encoding == "utf-16":
        text = text.replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>')
    source.write_bytes(text.encode(encoding))  # Python's utf-16 writes a byte-order mark
    assert source.stat().st_size > 100 * 1024 and (encoding == "utf-8") == (source.read_bytes()[:2] == b"<?")
    # The file is a real threat: a parser that allows DTDs puts the entity's text into the child ID.
    import xml.etree.ElementTree as ET

    assert ET.parse(source).getroot().find(".//LAchildID").text == "EXPANDED"
    out = tmp_path / "out"
    out.mkdir()
    report = run_import("cin-census", source, out)
    assert not report.ok
    assert report.error == (
        "padded.xml declares a DOCTYPE or entities, which a CIN census file never does; refused for safety. "
        "Nothing was imported."
    )
    assert list(out.iterdir()) == []  # nothing written
    assert report.tables["children"].read == 0  # refused before a single child was read


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Message><Children><Child><ChildIdentifiers><LAchildID>&lol9;</LAchildID></ChildIdentifiers></Child></Children></Message>
"""


def test_billion_laughs_is_refused(tmp_path):
    source = tmp_path / "laughs.xml"
    source.write_text(BILLION_LAUGHS)
    report = run_import("cin-census", source, tmp_path / "x")
    assert not report.ok
    assert report.error.startswith("laughs.xml declares a DOCTYPE or entities") and "refused for safety" in report.error
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("<Message><Header/></Message>", "holds no CIN census children"),
        ("<Foo><Bar/></Foo>", "holds no CIN census children"),
        ("<Message><Header><CollectionDetails><Collection>SCHOOL</Collection></CollectionDetails></Header></Message>",
         "not the CIN census"),
        ("", "not well-formed"),
    ],
)  # fmt: skip
def test_well_formed_but_unexpected_files(tmp_path, content, message):
    source = tmp_path / "odd.xml"
    source.write_text(content)
    report = run_import("cin-census", source, tmp_path / "x")
    assert not report.ok and message in report.error


def test_missing_file_is_a_clear_error(tmp_path):
    report = run_import("cin-census", tmp_path / "nowhere.xml", tmp_path / "x")
    assert not report.ok and "does not exist" in report.error
