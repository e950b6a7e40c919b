"""`python -m queries list|run`: output formats, exit codes and one-line errors."""

import json
import subprocess
import sys

from queries.__main__ import main


def cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "queries", *args], capture_output=True, text=True, env=env)


def test_list_names_every_query(capsys):
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    names = [line.split("\t")[0] for line in lines]
    assert {"open_cases", "rereferral_rate", "referrals_by_month"} <= set(names)
    assert all(len(line.split("\t")) == 3 for line in lines)


def test_run_csv_json_table(tiny_dir, capsys):
    assert main(["run", "open_cases", "--data", str(tiny_dir)]) == 0
    assert capsys.readouterr().out == "open_cases,open_referrals\n5,5\n"
    assert main(["run", "open_cases", "--data", str(tiny_dir), "--param", "team_id=T2", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"open_cases": 3, "open_referrals": 3}]
    assert main(["run", "team_list", "--data", str(tiny_dir), "--format", "table"]) == 0
    assert "Child Protection South" in capsys.readouterr().out


def test_bad_name_param_and_extract_exit_2(tiny_dir, tmp_path, capsys):
    assert main(["run", "nope", "--data", str(tiny_dir)]) == 2
    assert main(["run", "open_cases", "--data", str(tiny_dir), "--param", "as_of=soon"]) == 2
    assert main(["run", "open_cases", "--data", str(tiny_dir), "--param", "as_of"]) == 2
    assert main(["run", "open_cases", "--data", str(tmp_path / "missing")]) == 2
    (tmp_path / "empty").mkdir()
    assert main(["run", "open_cases", "--data", str(tmp_path / "empty")]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert errors == [
        "error: no query named 'nope' (python -m queries list shows them)",
        "error: open_cases: parameter as_of must be a date, got 'soon'",
        "error: --param takes KEY=VALUE, got 'as_of'",
        f"error: the extract folder {tmp_path / 'missing'} does not exist",
        f"error: {tmp_path / 'empty'} holds no extract tables: expected files such as children.parquet and referrals.parquet",
    ]


def test_invalid_table_exits_1_without_traceback(tiny_dir):
    (tiny_dir / "cp_plans.parquet").write_bytes(b"not parquet at all")
    result = cli("run", "children_on_cp_plans", "--data", str(tiny_dir))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: Children on child protection plans cannot be shown: the cp_plans table")


def test_one_question_reads_a_small_extract_in_place(tiny_dir, monkeypatch):
    """The command line answers one question per process: nothing is copied into memory first."""
    import queries.engine as engine_module
    from queries.__main__ import cli_storage
    from schemas.extract import open_extract

    monkeypatch.delenv("CHILDSTAT_STORAGE", raising=False)
    extract = open_extract(tiny_dir)
    assert cli_storage(extract) == "views"
    monkeypatch.setenv("CHILDSTAT_STORAGE", "memory")  # asked for: as asked
    assert cli_storage(extract) is None
    monkeypatch.delenv("CHILDSTAT_STORAGE")
    monkeypatch.setattr(engine_module, "MATERIALISE_BYTES", 10)  # a large extract: its cached database
    assert cli_storage(extract) is None
