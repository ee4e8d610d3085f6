"""Typed settings (tasks/core/settings.py): one default per value, misspelt keys refused,
the environment over the file, secrets never shown, the registry a setting."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from pydantic import SecretStr

from tasks.core.paths import PROJECT_ROOT, REGISTRY_FILE
from tasks.core.settings import (ArrivalSettings, QaSettings, Settings, SettingsError, ValidationSettings,
                                 load_settings, settings_text, value_sources)

FLAT_VARIABLES = ("QALOOP_CONFIG", "QALOOP_LA_CODE", "QALOOP_DATA_DIR", "QALOOP_WAREHOUSE_URL",
                  "QALOOP_REFERENCE_DIR", "QALOOP_PUBLISHED_URL", "QALOOP_SMTP_HOST", "QALOOP_SMTP_PORT",
                  "QALOOP_SMTP_FROM", "QALOOP_SMTP_TO", "QALOOP_SMTP_USERNAME", "QALOOP_SMTP_PASSWORD",
                  "QALOOP_SMTP_STARTTLS", "QALOOP_WEBHOOK_URL", "QALOOP_SOURCE_PASSWORD",
                  "QALOOP_WAREHOUSE_PASSWORD")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    import os
    for variable in [v for v in os.environ if v.startswith("QALOOP_")]:
        monkeypatch.delenv(variable)


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "qaloop.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_each_default_is_declared_once_in_the_settings_models():
    settings = load_settings(None, resolve_secrets=False)
    assert settings.qa == QaSettings() and settings.validation == ValidationSettings()
    assert (settings.freshness.working_days_behind, settings.arrival.poll_seconds,
            settings.archive.keep_months) == (3, 300.0, 24)
    assert settings.kpis.registry == REGISTRY_FILE
    # the modules that used to repeat them read the settings now
    for module, stale in {"tasks/kpis/qa.py": r"DEFAULT_(REQUIREMENTS|MODERATION|THEME|OBSERVATIONS)",
                          "tasks/validate/validation.py": r"row_change_limit: float \| None",
                          "tasks/extract/freshness.py": r"DEFAULT_WORKING_DAYS_BEHIND",
                          "tasks/extract/arrival.py": r"DEFAULT_(WAIT_UNTIL|POLL_SECONDS)"}.items():
        assert not re.search(stale, (PROJECT_ROOT / module).read_text()), module
    # expectations/defaults.yml declares the rules; the limits are the settings'
    defaults = (PROJECT_ROOT / "expectations" / "defaults.yml").read_text()
    assert not re.search(r"^(row_count_change|row_count_shrunk|file_age):.*(limit|days):", defaults, re.M)


def test_a_section_is_merged_onto_its_defaults(tmp_path):
    settings = load_settings(config(tmp_path, '[qa]\nfollow_up_days = 10\n[qa.requirements."Team Manager"]\n'
                                              'window_months = 2\n[qa.moderation_targets]\nSEND = 10\n'))
    assert settings.qa.follow_up_days == 10 and settings.qa.submission_working_days == 5
    manager = settings.qa.requirements["Team Manager"]
    assert (manager.window_months, manager.other_team_only) == (2, True)  # the role keeps its other rules
    assert settings.qa.moderation_targets == {"Social Care": 20.0, "Early Help": 10.0, "SEND": 10.0}


@pytest.mark.parametrize("text, named", [
    ("[qa]\nfollow_up_dayz = 10\n", r"\[qa\] follow_up_dayz: unknown key"),
    ("[validation]\nrow_limit = 1\n", r"\[validation\] row_limit: unknown key"),
    ("[arrival]\nwait_untill = '12:00'\n", r"\[arrival\] wait_untill: unknown key"),
    ('[qa.requirements."Team Manager"]\ncont = 1\n', r"\[qa.requirements.Team Manager\] cont: unknown key"),
    ("la_kode = 841\n", r"la_kode \(top level\): unknown key"),
    ("[freshness]\nworking_days_behind = 'three'\n", r"\[freshness\] working_days_behind: .*integer"),
])
def test_a_misspelt_key_is_refused_naming_the_section_and_key_and_the_file(tmp_path, text, named):
    path = config(tmp_path, text)
    with pytest.raises(SettingsError, match=named) as raised:
        load_settings(path)
    assert str(path) in str(raised.value) and isinstance(raised.value, ValueError)


def test_the_head_of_service_cannot_have_an_audit_requirement(tmp_path):
    with pytest.raises(SettingsError, match="Heads of Service by the re-audits of Inadequate cases"):
        load_settings(config(tmp_path, '[qa.requirements."Head of Service"]\ncount = 1\n'))


def test_the_environment_overrides_the_file_and_an_explicit_override_both(tmp_path, monkeypatch):
    path = config(tmp_path, "trend_months = 6\n[qa]\nfollow_up_days = 10\n[arrival]\npoll_seconds = 60\n")
    monkeypatch.setenv("QALOOP_QA__FOLLOW_UP_DAYS", "21")
    monkeypatch.setenv("QALOOP_ARRIVAL__WAIT_UNTIL", "10:30")
    monkeypatch.setenv("QALOOP_TREND_MONTHS", "7")
    settings = load_settings(path)
    assert settings.qa.follow_up_days == 21 and settings.qa.submission_working_days == 5
    assert (settings.arrival.wait_until.isoformat(), settings.arrival.poll_seconds) == ("10:30:00", 60.0)
    assert settings.trend_months == 7
    assert load_settings(path, trend_months=9).trend_months == 9
    monkeypatch.setenv("QALOOP_QA__FOLLOW_UP_DAYZ", "21")  # a section's variable must name one of its keys
    with pytest.raises(SettingsError, match=r"\[qa\] follow_up_dayz: unknown key"):
        load_settings(path)
    monkeypatch.delenv("QALOOP_QA__FOLLOW_UP_DAYZ")
    monkeypatch.setenv("QALOOP_FRESHNESS__WORKING_DAYS_BEHIND", "soon")
    with pytest.raises(SettingsError, match=r"\[freshness\] working_days_behind"):
        load_settings(path)


def test_the_flat_variables_of_env_example_still_work(tmp_path, monkeypatch):
    documented = (PROJECT_ROOT / ".env.example").read_text()
    assert all(f"{variable}=" in documented for variable in FLAT_VARIABLES)
    path = config(tmp_path, 'la_code = 841\n[notifications]\nsmtp_host = "file.example"\n')
    monkeypatch.setenv("QALOOP_CONFIG", str(path))
    monkeypatch.setenv("QALOOP_LA_CODE", "302")
    monkeypatch.setenv("QALOOP_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("QALOOP_WAREHOUSE_URL", "postgresql+psycopg://qaloop@dbhost/qaloop")
    monkeypatch.setenv("QALOOP_REFERENCE_DIR", str(tmp_path / "ref"))
    monkeypatch.setenv("QALOOP_PUBLISHED_URL", "https://intranet.example/qaloop/")
    monkeypatch.setenv("QALOOP_SMTP_HOST", "smtp.example")
    monkeypatch.setenv("QALOOP_SMTP_PORT", "2525")
    monkeypatch.setenv("QALOOP_SMTP_TO", "a@la.example, b@la.example")
    monkeypatch.setenv("QALOOP_SMTP_STARTTLS", "true")
    monkeypatch.setenv("QALOOP_SMTP_PASSWORD", "smtp-S3cret")
    monkeypatch.setenv("QALOOP_WEBHOOK_URL", "json://hooks.example/T0KEN")
    monkeypatch.setenv("QALOOP_WAREHOUSE_PASSWORD", "wh-S3cret")
    monkeypatch.setenv("QALOOP_SOURCE_PASSWORD", "src-S3cret")
    settings = load_settings()
    assert (settings.la_code, settings.data_dir, settings.reference_dir) == ("302", tmp_path / "d", tmp_path / "ref")
    assert settings.published_url == "https://intranet.example/qaloop/"
    notes = settings.notifications
    assert (notes.smtp_host, notes.smtp_port, notes.smtp_to, notes.smtp_starttls) == (
        "smtp.example", 2525, ("a@la.example", "b@la.example"), True)
    assert settings.resolved_warehouse_url == "postgresql+psycopg://qaloop:wh-S3cret@dbhost/qaloop"
    assert settings.source_to_read("mssql+pyodbc://reader@case/ssd") == "mssql+pyodbc://reader:src-S3cret@case/ssd"
    assert notes.smtp_password.get_secret_value() == "smtp-S3cret"
    assert notes.webhook_url.get_secret_value().endswith("T0KEN")


def test_secrets_are_never_shown(tmp_path, monkeypatch, capsys):
    from qaloop.cli import main
    path = config(tmp_path, 'warehouse_url = "postgresql+psycopg://qaloop@dbhost/qaloop"\n'
                            '[qa]\nfollow_up_days = 10\n')
    secrets = {"QALOOP_SMTP_PASSWORD": "smtp-S3cret", "QALOOP_WEBHOOK_URL": "json://hooks.example/T0KEN",
               "QALOOP_WAREHOUSE_PASSWORD": "wh-S3cret", "QALOOP_SOURCE_PASSWORD": "src-S3cret"}
    for variable, value in secrets.items():
        monkeypatch.setenv(variable, value)
    monkeypatch.setenv("QALOOP_ARCHIVE__KEEP_MONTHS", "36")
    settings = load_settings(path)
    assert isinstance(settings.source_password, SecretStr) and isinstance(settings.notifications.webhook_url,
                                                                           SecretStr)
    shown = [repr(settings), str(settings), repr(settings.notifications), str(settings.model_dump()),
             settings.model_dump_json()]
    assert main(["settings", "--config", str(path)]) == 0
    shown.append(printed := capsys.readouterr().out)
    for text in shown:
        assert not any(word in text for word in ("S3cret", "T0KEN")), text
    assert "warehouse_url" not in settings.model_dump()  # the URL may carry a password: never dumped
    parsed = tomllib.loads(printed)  # TOML, with the secrets masked and where each value came from
    assert parsed["source_password"] == parsed["notifications"]["smtp_password"] == "**********"
    assert parsed["qa"]["follow_up_days"] == 10 and parsed["archive"]["keep_months"] == 36
    lines, table = {}, ""
    for line in printed.splitlines():
        table = line if line.startswith("[") else table
        lines[(table + " " + line.split(" = ")[0]).strip()] = line
    assert lines["[qa] follow_up_days"].endswith("# file")
    assert lines["[archive] keep_months"].endswith("# environment")
    assert lines["[qa] submission_working_days"].endswith("# default")
    assert lines["[notifications] smtp_password"].endswith("# environment")
    assert lines["warehouse_url"] == 'warehouse_url = "postgresql+psycopg://qaloop@dbhost/qaloop"   # file'


def test_qaloop_settings_names_a_misspelt_key(tmp_path, capsys):
    from qaloop.cli import main
    assert main(["settings", "--config", str(config(tmp_path, "[qa]\nfollow_up_dayz = 1\n"))]) == 2
    assert "[qa] follow_up_dayz: unknown key" in capsys.readouterr().err


def test_value_sources_of_an_override():
    assert value_sources(None, {"trend_months": 4, "la_code": None}) == {("trend_months",): "override"}
    assert "# override" in settings_text(Settings(trend_months=4), {("trend_months",): "override"})


def test_with_overrides_validates_like_the_file():
    settings = load_settings(None, resolve_secrets=False)
    assert settings.with_overrides(trend_months="4", la_code=None).trend_months == 4
    with pytest.raises(SettingsError, match="trend_months"):
        settings.with_overrides(trend_months="four")
    assert ArrivalSettings(wait_until="09:00").wait_until.hour == 9


def test_a_registry_outside_sql_adds_a_kpi_reading_the_project_sql(tmp_path):
    """[kpis] registry: a registry file elsewhere (a test's fixture) whose entries' SQL is
    read from its own folder first, then sql/, and may read sql/'s shared files by name."""
    import yaml

    from tasks.kpis.registry import load_registry
    project = {k.id: k for k in load_registry()}
    first = next(iter(project.values()))
    folder = tmp_path / "toy"
    folder.mkdir()
    (folder / "toy_open_cp.sql").write_text(
        "-- toy: every open CP plan, through the shared rule of sql/common/\n"
        "select cppl_cp_plan_id as record_id, cppl_person_id as person_id, null as team_id,\n"
        "       null as worker_id,\n"
        "       1 as in_numerator, null as measure\nfrom cp_plans_open\n", encoding="utf-8")
    entry = {"id": "TOY01", "name": "Toy", "scorecard": "safety", "kind": "count", "polarity": "None",
             "grain": "child", "sql": "toy_open_cp.sql", "definition": "toy", "attribution": "record"}
    reused = {k: v for k, v in vars(first).items()
              if k in ("id", "name", "scorecard", "kind", "polarity", "grain", "sql", "definition")}
    (folder / "registry.yml").write_text(yaml.safe_dump({"kpis": [entry, reused]}), encoding="utf-8")
    path = config(tmp_path, f'[kpis]\nregistry = "{folder / "registry.yml"}"\n')
    settings = load_settings(path)
    kpis = {k.id: k for k in load_registry(settings.kpis.registry)}
    assert kpis["TOY01"].sql_path == folder / "toy_open_cp.sql"
    assert "cp_plans_open as (" in kpis["TOY01"].sql_text()  # sql/'s shared file, inlined by name
    assert kpis[first.id].sql_path == first.sql_path  # not in the folder: sql/'s
    assert kpis[first.id].sql_text() == first.sql_text()
