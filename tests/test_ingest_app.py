"""An imported extract opens in the app: every page renders on a full import and on a 903-only one."""

from __future__ import annotations

import io
import json
import tempfile
import time
import zipfile
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


def test_import_page_uploads_and_imports(tiny_dir, monkeypatch, tmp_path):
    temp = use_temp_folder(tmp_path, monkeypatch)
    monkeypatch.setenv("CHILDSTAT_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    page = Path(__file__).resolve().parent.parent / "pages" / "import_data.py"
    at = open_page(page, tiny_dir, monkeypatch)
    # The browser is told the limit too (Streamlit refuses a larger file before sending it).
    assert [u.proto.max_upload_size_mb for u in at.get("file_uploader")] == [50, 50, 50, 50]
    xml = (FIXTURES / "cin_census" / "CIN_Census_2024.xml").read_bytes()
    at.get("file_uploader")[1].upload("CIN_Census_2024.xml", xml, "text/xml").run()
    at.button(key="import_submit").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("CIN_Census_2024.xml" in s.value for s in at.success), [s.value for s in at.success]
    assert any("CHILDSTAT_DATA=my_import/extract" in c.value for c in at.code)
    # The loaded extract is never written to.
    assert "imported" not in (tiny_dir / "manifest.json").read_text()
    assert not [p for p in tiny_dir.iterdir() if "imported_from" in str(p) or p.name.startswith(".")]
    # Nothing is left in the temporary folder: no upload, no extract, no validation spill.
    assert list(temp.iterdir()) == []
    # The upload and the download are in the audit log: the file's name, size and format, never its content.
    at.get("download_button")[0].click().run()
    assert not at.exception
    events = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    uploads = [e for e in events if e["event"] == "import_upload"]
    assert [(e["file"], e["size"], e["format"]) for e in uploads] == [("CIN_Census_2024.xml", len(xml), "cin-census")]
    [download] = [e for e in events if e["event"] == "download"]
    assert download["file"] == "childstat-extract.zip" and download["format"] == "extract" and download["size"] > 1000


def use_temp_folder(tmp_path: Path, monkeypatch) -> Path:
    """Point this process's and the import child's temporary folder at an empty folder of the test's."""
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.setenv("TMPDIR", str(temp))
    return temp


def limited(monkeypatch, **values) -> None:
    """Settings `[imports]` with some values replaced, as the page and the import child's parent read them."""
    import pages.import_data
    import queries.settings

    real = queries.settings.setting

    def setting(key, path=None):
        return values[key] if key in values else real(key, path)

    monkeypatch.setattr(queries.settings, "setting", setting)
    monkeypatch.setattr(pages.import_data, "setting", setting)


CIN = FIXTURES / "cin_census" / "CIN_Census_2024.xml"


def test_an_import_leaves_only_the_zip_and_no_temporary_folder(tmp_path, monkeypatch):
    from pages.import_data import import_files

    temp = use_temp_folder(tmp_path, monkeypatch)
    result = import_files([("cin-census", "CIN_Census_2024.xml", CIN.read_bytes()), ("cin-census", "cut.xml", b"<M")])
    assert [(r["source_name"], r["error"] is None) for r in result["reports"]] == [
        ("CIN_Census_2024.xml", True),
        ("cut.xml", False),
    ]
    assert result["validation"]["table_status"]["children"] == "ok" and result["refused"] is None
    with zipfile.ZipFile(io.BytesIO(result["zip"])) as zf:
        names = set(zf.namelist())
    assert {"extract/manifest.json", "extract/children.parquet", "extract/referrals.parquet"} <= names
    assert not any(n.endswith(".xml") for n in names)  # the raw upload is not in it
    assert "out" not in result  # no path to a folder that no longer exists
    assert list(temp.iterdir()) == []


def test_an_upload_over_the_limit_is_refused_unread(tmp_path, monkeypatch):
    import ingest.isolated
    from pages.import_data import import_files

    temp = use_temp_folder(tmp_path, monkeypatch)
    monkeypatch.setattr(ingest.isolated, "run_limited", lambda *a, **k: pytest.fail("the file was imported"))
    huge = b"<Message>" + b" " * (60 * 1024 * 1024)
    result = import_files([("cin-census", "huge.xml", huge)])
    assert [(r["source_name"], r["error"]) for r in result["reports"]] == [
        (
            "huge.xml",
            "huge.xml is 60.0 MB, more than the 50 MB an upload may be (setting max_upload_mb). It was not read.",
        )
    ]
    assert result["zip"] is None and list(temp.iterdir()) == []


def test_an_import_that_needs_too_much_memory_is_refused(tiny_dir, tmp_path, monkeypatch):
    from pages.import_data import RESULT_KEY, import_files

    temp = use_temp_folder(tmp_path, monkeypatch)
    limited(monkeypatch, max_memory_mb=1)
    result = import_files([("cin-census", "CIN_Census_2024.xml", CIN.read_bytes())])
    assert result["refused"] == (
        "CIN_Census_2024.xml was refused: importing it needed more than 1 MB of memory (setting max_memory_mb). "
        "Nothing was imported."
    )
    assert result["zip"] is None and result["reports"] == []
    assert list(temp.iterdir()) == []
    # The page says so plainly: no traceback, nothing to download.
    page = Path(__file__).resolve().parent.parent / "pages" / "import_data.py"
    at = open_page(page, tiny_dir, monkeypatch)
    at.session_state[RESULT_KEY] = result
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == [result["refused"]]
    assert not at.get("download_button")


def test_an_import_that_takes_too_long_is_stopped(tmp_path, monkeypatch):
    from pages.import_data import import_files

    temp = use_temp_folder(tmp_path, monkeypatch)
    limited(monkeypatch, max_seconds=0.05)  # less than the child needs to start
    started = time.perf_counter()
    result = import_files([("annex-a", "Annex_A.xlsx", (FIXTURES / "annex_a" / "Annex_A.xlsx").read_bytes())])
    assert time.perf_counter() - started < 2
    assert result["refused"] == (
        "Annex_A.xlsx was refused: importing it took longer than 0.05 seconds (setting max_seconds). "
        "Nothing was imported."
    )
    assert result["zip"] is None
    assert list(temp.iterdir()) == []


def test_a_workbook_bomb_uploaded_on_the_page_is_refused(tmp_path, monkeypatch):
    from zip_bombs import workbook_bomb

    from pages.import_data import import_files

    temp = use_temp_folder(tmp_path, monkeypatch)
    bomb = workbook_bomb(tmp_path / "Annex_A.xlsx", unpacked_mb=400).read_bytes()
    assert len(bomb) < 450 * 1024
    result = import_files([("annex-a", "Annex_A.xlsx", bomb)])
    [report] = result["reports"]
    assert report["error"].startswith("Annex_A.xlsx was refused for safety: it would unpack to 400 MB")
    assert result["zip"] is None and result["refused"] is None
    assert list(temp.iterdir()) == []


def test_upload_names_are_file_names_only():
    from pages.import_data import safe_name

    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("C:\\Users\\me\\CIN.xml") == "CIN.xml"
    assert safe_name("..") == safe_name("") == "upload"


HEADER_903 = FIXTURES / "ssda903" / "header.csv"


def test_an_import_the_app_cannot_use_is_never_called_imported(tmp_path, monkeypatch):
    """An SSDA903 header alone is read without a fault, but gives children only: the page says so, offers
    nothing to download or open, and never says "imported"."""
    from pages.import_data import RESULT_KEY, import_files

    use_temp_folder(tmp_path, monkeypatch)
    result = import_files([("ssda903", "header.csv", HEADER_903.read_bytes())])
    assert [r["error"] for r in result["reports"]] == [None]  # the source itself was read
    assert "holds only the children" in result["unusable"] and result["zip"] is None
    page = Path(__file__).resolve().parent.parent / "pages" / "import_data.py"
    at = open_page(page, FIXTURES.parent / "nowhere", monkeypatch)
    at.session_state[RESULT_KEY] = result
    at.run()
    assert not at.exception
    assert not any("imported" in s.value for s in at.success)
    assert any("No usable extract was made" in e.value for e in at.error)
    assert not at.get("download_button") and not any(b.label == "Open this extract now" for b in at.button)


def test_open_this_extract_now_switches_this_session_to_the_import(tiny_dir, tmp_path, monkeypatch):
    from pages.import_data import RESULT_KEY, import_files

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("CHILDSTAT_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    result = import_files([("cin-census", "CIN_Census_2024.xml", CIN.read_bytes())], la_name="Imported Borough")
    assert result["unusable"] is None and result["zip"]
    page = Path(__file__).resolve().parent.parent / "pages" / "import_data.py"
    at = open_page(page, tiny_dir, monkeypatch)
    assert "Tiny Test Borough" in at.sidebar.markdown[0].value
    at.session_state[RESULT_KEY] = result
    at.run()
    at.button(key="import_open").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Imported Borough" in at.sidebar.markdown[0].value  # this session now reads the import
    [kept] = list((tmp_path / "data" / "childstat" / "imports").iterdir())
    assert (kept / "manifest.json").exists() and oct(kept.stat().st_mode & 0o777) == "0o700"
    assert {oct(f.stat().st_mode & 0o777) for f in kept.iterdir()} == {"0o600"}
    events = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert [e["file"] for e in events if e["event"] == "extract_opened"] == [kept.name]
    # The configured extract is untouched, and a new session still reads it.
    assert "Imported Borough" not in (tiny_dir / "manifest.json").read_text()
    fresh = open_page(page, tiny_dir, monkeypatch)
    assert "Tiny Test Borough" in fresh.sidebar.markdown[0].value


def test_only_those_who_see_every_child_may_open_an_import():
    from pages.import_data import may_open
    from queries.access import LOCAL_ADMIN, Scope

    assert may_open(LOCAL_ADMIN) and may_open(Scope("analyst", "a@x"))
    assert not may_open(Scope("team_manager", "m@x", team_id="T1")) and not may_open(None)
