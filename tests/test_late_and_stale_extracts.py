"""Issue 11, points 2-4, as flow runs on a real Prefect server and a real SMTP server:
a stale extract is refused with its dates and the current version is untouched (unless
accepted knowingly, or a re-run with the period's archived extract); an empty drop
folder waits and then sends exactly one alert; a late extract is run when it arrives;
an unchanged warning is sent once across two periods and then only in the daily digest."""

from __future__ import annotations

import json
import shutil
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from configs import write_config
from tasks.extract.arrival import LONDON, ExtractNotArrived
from qaloop.synthetic import generate_la
from tasks.warehouse.database import make_engine, read_sql
from test_validation import SmtpServer

PERIOD = "2024-03"


@pytest.fixture(scope="module")
def extracts(tmp_path_factory):
    """The same LA extracted on three days (each with its extract_manifest.json)."""
    root = tmp_path_factory.mktemp("extracts")
    days = {"april-5": date(2024, 4, 5), "april-3": date(2024, 4, 3), "march-6": date(2024, 3, 6)}
    for name, day in days.items():
        generate_la(root / name, as_at=day, children=200, seed=11)
    return root


def settings_in(folder: Path, **changes):
    """The settings of a configuration file written in `folder` (flows get its path)."""
    return write_config(folder, synthetic=True, la_code="841", trend_months=2, **changes)[1]


def config_of(settings) -> str:
    return str(settings.data_dir / "qaloop.toml")


def ledger(settings) -> pd.DataFrame:
    engine = make_engine(settings.resolved_warehouse_url)
    frame = read_sql(engine, "select run_id, state, message, extract_date, extract_date_basis, "
                             "stale_accepted, reason from runs order by started_at")
    frame["current"] = frame["run_id"].isin(
        read_sql(engine, "select run_id from current_runs")["run_id"])
    engine.dispose()
    return frame


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


# --- point 2: stale extracts -------------------------------------------------------------

def test_a_stale_extract_is_refused_with_its_dates_and_the_current_version_untouched(
        extracts, tmp_path, prefect_server):
    from flows.monthly import monthly
    from flows.runner import DataQualityFailed
    settings, out = settings_in(tmp_path / "data"), tmp_path / "out"
    first = monthly(period=PERIOD, source=str(extracts / "april-5"), out=str(out), config=config_of(settings))
    published = out / PERIOD
    before = snapshot(published)

    # generated as at 6 March, re-dropped for the March run
    with pytest.raises(DataQualityFailed) as refused:
        monthly(period=PERIOD, source=str(extracts / "march-6"), out=str(out), config=config_of(settings))
    said = str(refused.value)
    assert said.startswith("2024-03 not published: stale extract: the latest activity in the extract is 2024-03-0")
    assert "before the period end 2024-03-31 (at most 3 allowed); extract dated 2024-03-06 (from " \
           "extract_manifest.json)" in said
    assert f"older than the extract of the current version (run {first['run_id']}, extract dated " \
           "2024-04-05)" in said and "--accept-stale --reason TEXT" in said

    # a good extract of 3 April, but older than the one March was published from
    with pytest.raises(DataQualityFailed, match="the extract is dated 2024-04-03 \\(from extract_manifest.json\\), "
                                                "older than the extract of the current version"):
        monthly(period=PERIOD, source=str(extracts / "april-3"), out=str(out), config=config_of(settings))

    assert published.resolve().name == first["run_id"] and snapshot(published) == before
    runs = ledger(settings)
    assert runs["state"].tolist() == ["Completed", "Failed: data quality", "Failed: data quality"]
    assert runs["current"].tolist() == [True, False, False]
    assert [str(d)[:10] for d in runs["extract_date"]] == ["2024-04-05", "2024-03-06", "2024-04-03"]
    assert set(runs["extract_date_basis"]) == {"extract_manifest.json"}
    assert "stale extract" in runs["message"][1] and "2024-03-31" in runs["message"][1]


def test_a_stale_extract_is_published_knowingly_and_a_periods_archive_is_exempt(
        extracts, tmp_path, prefect_server):
    from flows.monthly import monthly
    settings, out = settings_in(tmp_path / "data"), tmp_path / "out"
    monthly(period=PERIOD, source=str(extracts / "april-5"), out=str(out), config=config_of(settings))
    with pytest.raises(ValueError, match="needs a reason"):
        monthly(period=PERIOD, source=str(extracts / "april-3"), out=str(out), config=config_of(settings),
                accept_stale=True)
    accepted = monthly(period=PERIOD, source=str(extracts / "april-3"), out=str(out), config=config_of(settings),
                       accept_stale=True, reason="5 April extract withdrawn: wrong cut")
    metadata = json.loads((out / PERIOD / "run_metadata.json").read_text())
    assert metadata["run_id"] == accepted["run_id"]
    assert "STALE EXTRACT ACCEPTED: the extract is dated 2024-04-03" in metadata["data_quality"]
    runs = ledger(settings).set_index("run_id")
    assert runs.loc[accepted["run_id"], "stale_accepted"].endswith(
        "published knowingly (--accept-stale): 5 April extract withdrawn: wrong cut")
    assert runs.loc[accepted["run_id"], "state"] == "Completed"

    # 5 April's extract again, then a re-run from the archive of the 3 April run: exempt
    newer = monthly(period=PERIOD, source=str(extracts / "april-5"), out=str(out), config=config_of(settings))
    archive = settings.archive_dir / accepted["run_id"]
    assert not (archive / "extract_manifest.json").exists()  # dated from the ledger, not the copies' times
    again = monthly(period=PERIOD, source=str(archive), out=str(out), config=config_of(settings), reason="reproduce")
    runs = ledger(settings).set_index("run_id")
    assert runs.loc[again["run_id"], "state"] == "Completed" and bool(runs.loc[again["run_id"], "current"])
    assert str(runs.loc[again["run_id"], "extract_date"])[:10] == "2024-04-03"
    assert runs.loc[again["run_id"], "extract_date_basis"] == f"the ledger of run {accepted['run_id']}, whose extract this is"
    assert pd.isna(runs.loc[again["run_id"], "stale_accepted"])
    assert not bool(runs.loc[newer["run_id"], "current"])


# --- point 3: late extracts -------------------------------------------------------------

class FakeClock:
    def __init__(self, start: datetime, on_sleep=None):
        self.now, self.sleeps, self.on_sleep = start, 0, on_sleep

    def __call__(self):
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        self.now += timedelta(seconds=seconds)
        if self.on_sleep:
            self.on_sleep(self.sleeps)


def wait_for_messages(server, count: int, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while len(server.messages) < count and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1)  # and nothing more arrives


def with_mail(server: SmtpServer, folder: Path):
    return settings_in(folder, notifications=dict(
        smtp_host="127.0.0.1", smtp_port=server.controller.port, smtp_from="qaloop@la.example",
        smtp_to=["performance@la.example"]), arrival={"wait_until": "12:00", "poll_seconds": 300})


def test_an_empty_drop_folder_waits_then_sends_exactly_one_alert(tmp_path, prefect_server, monkeypatch):
    from flows import steps
    from flows.monthly import monthly
    drop = tmp_path / "drop"
    drop.mkdir()
    clock = FakeClock(datetime(2024, 4, 8, 7, 30, tzinfo=LONDON))  # the schedule's time
    monkeypatch.setattr(steps, "CLOCK", clock)
    monkeypatch.setattr(steps, "SLEEP", clock.sleep)
    started = time.monotonic()
    with SmtpServer() as server:
        settings = with_mail(server, tmp_path / "data")
        with pytest.raises(ExtractNotArrived):
            monthly(period=PERIOD, source=str(drop), out=str(tmp_path / "out"), config=config_of(settings),
                    trigger="schedule")
        wait_for_messages(server, 2)
    assert time.monotonic() - started < 60 and clock.sleeps == 54  # 4.5 hours in 5-minute polls
    assert clock.now == datetime(2024, 4, 8, 12, 0, tzinfo=LONDON)
    subjects = [str(m["Subject"]).strip() for m in server.messages]
    assert subjects == ["qaloop: monthly 2024-03 waiting for its extract (until 12:00)",
                        "qaloop: monthly 2024-03 run FAILED"]
    notice, alert = (m.get_content() for m in server.messages)
    assert "The extract has not arrived yet: 20 table(s) missing (ssd_person," in notice
    assert "had not arrived by 2024-04-08 12:00 Europe/London: 20 table(s) missing: ssd_person, " in alert
    assert not (tmp_path / "out" / PERIOD).exists()
    runs = ledger(settings)
    assert runs["state"].tolist() == ["Failed"] and "ExtractNotArrived" in runs["message"][0]


def test_a_manual_run_of_an_empty_drop_folder_stops_at_once_with_one_alert(tmp_path, prefect_server,
                                                                            monkeypatch):
    from flows import steps
    from flows.monthly import monthly
    drop = tmp_path / "drop"
    drop.mkdir()
    monkeypatch.setattr(steps, "SLEEP", lambda seconds: pytest.fail("a manual run does not wait"))
    with SmtpServer() as server:
        with pytest.raises(ExtractNotArrived, match="holds none of the case tables"):
            monthly(period=PERIOD, source=str(drop), out=str(tmp_path / "out"),
                    config=config_of(with_mail(server, tmp_path / "data")))
        wait_for_messages(server, 1)
    assert [str(m["Subject"]).strip() for m in server.messages] == ["qaloop: monthly 2024-03 run FAILED"]


def test_a_late_extract_is_run_when_it_arrives(extracts, tmp_path, prefect_server, monkeypatch):
    from flows import steps
    from flows.exceptions import daily
    drop = tmp_path / "drop"
    drop.mkdir()

    def export_finishes(sleeps: int) -> None:
        if sleeps == 3:
            shutil.copytree(extracts / "april-5", drop, dirs_exist_ok=True)
    clock = FakeClock(datetime(2024, 3, 15, 6, 30, tzinfo=LONDON), export_finishes)
    monkeypatch.setattr(steps, "CLOCK", clock)
    monkeypatch.setattr(steps, "SLEEP", clock.sleep)
    with SmtpServer() as server:
        settings = with_mail(server, tmp_path / "data")
        result = daily(as_at="2024-03-14", source=str(drop), out=str(tmp_path / "out"), config=config_of(settings),
                       trigger="schedule")
        wait_for_messages(server, 1)
    assert clock.sleeps == 3 and clock.now == datetime(2024, 3, 15, 6, 45, tzinfo=LONDON)
    assert Path(result["outputs"][0]).name == "daily_exceptions_2024-03-14.xlsx"
    assert (tmp_path / "out" / "daily" / "2024-03-14" / "daily_exceptions_2024-03-14.xlsx").exists()
    notices = [str(m["Subject"]).strip() for m in server.messages]
    # one notice; the data-quality warnings of the small LA's extract are its own matter
    assert [s for s in notices if not s.startswith("[qaloop data quality] WARNING")] == [
        "qaloop: daily 2024-03-14 waiting for its extract (until 12:00)"]
    assert ledger(settings)["state"].tolist() == ["Completed"]


# --- point 4: a standing warning, once --------------------------------------------------------

def test_an_unchanged_warning_is_sent_once_across_two_periods_then_in_the_daily_digest(
        extracts, tmp_path, prefect_server):
    from flows.exceptions import daily
    from flows.monthly import monthly
    source = tmp_path / "extract"
    shutil.copytree(extracts / "april-5", source)
    people = pd.read_csv(source / "ssd_person.csv", dtype=str, keep_default_na=False)
    people.loc[people.index[:3], "pers_sex"] = "Q"  # outside the code list: a warning
    people.to_csv(source / "ssd_person.csv", index=False)
    with SmtpServer() as server:
        settings = with_mail(server, tmp_path / "data")
        february = monthly(period="2024-02", source=str(source), out=str(tmp_path / "out"), config=config_of(settings))
        wait_for_messages(server, 1, seconds=3)
        after_february = [str(m["Subject"]).strip() for m in server.messages]
        monthly(period=PERIOD, source=str(source), out=str(tmp_path / "out"), config=config_of(settings))
        wait_for_messages(server, len(after_february) + 1, seconds=3)
        after_march = [str(m["Subject"]).strip() for m in server.messages]
        daily(as_at="2024-03-14", source=str(source), out=str(tmp_path / "out"), config=config_of(settings))
        wait_for_messages(server, len(after_march) + 1)
    sex = "[qaloop data quality] WARNING 2024-02 ssd_person.pers_sex: in_code_list"
    assert sex in after_february and all("WARNING 2024-02" in s for s in after_february)
    assert after_march == after_february  # nothing new for March: the same extract
    digest = server.messages[len(after_march):]
    assert [str(m["Subject"]).strip() for m in digest] == [
        f"[qaloop data quality] DIGEST 2024-03-14: {len(after_february)} standing warning"
        f"{'s' if len(after_february) > 1 else ''}"]
    assert "ssd_person.pers_sex in_code_list: 3 rows" in digest[0].get_content()
    first = next(m for m in server.messages if str(m["Subject"]).strip() == sex).get_content()
    assert f"Run:         monthly 2024-02, run {february['run_id']}" in first
    assert "Data Docs:   file://" in first and "/data_quality/2024-02/" in first
