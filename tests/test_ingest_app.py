"""An imported extract opens in the app: every page renders on a full import and on a 903-only one."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_pages import PAGES, open_page

from ingest import run_import

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    full = tmp_path_factory.mktemp("full")
    for kind, source in [
        ("cin-census", FIXTURES / "cin_census" / "fake_CIN_data.xml"),
        ("cin-census", FIXTURES / "cin_census" / "CIN_Census_2024.xml"),
        ("annex-a", FIXTURES / "annex_a" / "Annex_A.xlsx"),
        ("ssda903", FIXTURES / "ssda903"),
    ]:
        assert run_import(kind, source, full).ok
    only_903 = tmp_path_factory.mktemp("only903")
    assert run_import("ssda903", FIXTURES / "ssda903", only_903).ok
    return {"full": full, "903": only_903}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
@pytest.mark.parametrize("which", ["full", "903"])
def test_every_page_renders_on_an_imported_extract(page, which, imported, monkeypatch):
    at = open_page(page, imported[which], monkeypatch)
    assert not at.exception, [e.value for e in at.exception]


def test_import_page_with_nothing_chosen_and_with_a_result(tiny_dir, monkeypatch):
    from pages.import_data import RESULT_KEY, import_files

    page = Path(__file__).resolve().parent.parent / "pages" / "import_data.py"
    at = open_page(page, tiny_dir, monkeypatch)
    at.button[0].click().run()
    assert not at.exception
    assert any("Choose at least one file" in i.value for i in at.info)
    uploads = [
        ("cin-census", "CIN_Census_2024.xml", (FIXTURES / "cin_census" / "CIN_Census_2024.xml").read_bytes()),
        ("cin-census", "cut.xml", b"<Message><Children>"),
    ]
    at.session_state[RESULT_KEY] = import_files(uploads)
    at.run()
    assert not at.exception
    assert any("CIN_Census_2024.xml" in s.value and "imported" in s.value for s in at.success)
    assert any("cut.xml" in e.value and "not well-formed" in e.value for e in at.error)
    assert any("streamlit run app.py" in c.value for c in at.code)


def test_import_page_uploads_and_imports(tiny_dir, monkeypatch):
    page = Path(__file__).resolve().parent.parent / "pages" / "import_data.py"
    at = open_page(page, tiny_dir, monkeypatch)
    xml = (FIXTURES / "cin_census" / "CIN_Census_2024.xml").read_bytes()
    at.get("file_uploader")[1].upload("CIN_Census_2024.xml", xml, "text/xml").run()
    at.button(key="import_submit").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("CIN_Census_2024.xml" in s.value for s in at.success), [s.value for s in at.success]
    assert any("CHILDSTAT_DATA=" in c.value for c in at.code)
    # The loaded extract is never written to.
    assert "imported" not in (tiny_dir / "manifest.json").read_text()
    assert not [p for p in tiny_dir.iterdir() if "imported_from" in str(p) or p.name.startswith(".")]
