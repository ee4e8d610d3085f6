"""Extract: drop folders (CSV, XLSX), database sources, mapping, conforming, archiving."""

import hashlib
import os
import stat

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa

from tasks.core.settings import SourceMapping
from tasks.extract.extracts import ExtractError, archive_extracts, extract_sources
from tasks.core.sources import CASE_SYSTEM_TABLES, TABLES


def write_minimal_drop_folder(folder, overrides=None):
    """Every case-system table with its header only, plus the given CSV texts."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in CASE_SYSTEM_TABLES:
        (folder / f"{name}.csv").write_text(",".join(TABLES[name].required_columns) + "\n")
    for name, text in (overrides or {}).items():
        (folder / f"{name}.csv").write_text(text)
    return folder


PERSON_CSV = ("pers_person_id,pers_sex,pers_ethnicity,pers_dob,pers_death_date\n"
              "007,M,WBRI,2015-02-03,\n"
              "P2,F,ASIN,03/04/2016 00:00,\n")


def test_folder_extract_conforms_types_and_keeps_ids_as_text(tmp_path):
    folder = write_minimal_drop_folder(tmp_path / "drop", {"ssd_person": PERSON_CSV})
    extracts = extract_sources(str(folder))
    person = extracts["ssd_person"].frame
    assert list(person["pers_person_id"]) == ["007", "P2"]
    assert [str(d) for d in person["pers_dob"]] == ["2015-02-03", "2016-04-03"]
    assert person["pers_death_date"].isna().all()
    assert extracts["ssd_contacts"].frame.empty


def test_flags_are_normalised_as_kpis_md_decides(tmp_path):
    header = ",".join(TABLES["ssd_cin_episodes"].required_columns)
    rows = ["R1,P1,2024-01-01,N1,,Yes,,,,", "R2,P1,2024-01-01,N1,,false,,,,",
            "R3,P1,2024-01-01,N1,,TRUE,,,,", "R4,P1,2024-01-01,N1,,NA,,,,"]
    folder = write_minimal_drop_folder(tmp_path / "drop",
                                       {"ssd_cin_episodes": "\n".join([header, *rows]) + "\n"})
    frame = extract_sources(str(folder))["ssd_cin_episodes"].frame
    assert list(frame["cine_referral_nfa"]) == ["Y", "N", "Y", "NA"]


def test_missing_file_names_the_table(tmp_path):
    folder = write_minimal_drop_folder(tmp_path / "drop")
    (folder / "ssd_cp_visits.csv").unlink()
    with pytest.raises(ExtractError, match="missing file for table.*ssd_cp_visits"):
        extract_sources(str(folder))


def test_missing_column_names_table_and_column(tmp_path):
    folder = write_minimal_drop_folder(tmp_path / "drop", {
        "ssd_person": "pers_person_id,pers_sex,pers_ethnicity,pers_death_date\nP1,M,WBRI,\n"})
    with pytest.raises(ExtractError, match=r"ssd_person.*missing column\(s\) pers_dob"):
        extract_sources(str(folder))


def test_unparseable_date_names_column_value_and_row(tmp_path):
    folder = write_minimal_drop_folder(tmp_path / "drop", {
        "ssd_person": "pers_person_id,pers_sex,pers_ethnicity,pers_dob,pers_death_date\n"
                      "P1,M,WBRI,31/02/2015,\nP2,F,WBRI,2015-01-01,\n"})
    with pytest.raises(ExtractError, match=r"pers_dob: unparseable date.*'31/02/2015'.*P1"):
        extract_sources(str(folder))


def test_cp1252_file_with_pound_sign_and_accents(tmp_path):
    text = ("prof_professional_id,prof_staff_id,prof_professional_name,prof_professional_job_title,"
            "prof_professional_department,prof_full_time_equivalency,prof_agency_worker_flag\n"
            "W1,S1,Zoë Brontë,Social Worker £ band,Team A,1,N\n")
    folder = write_minimal_drop_folder(tmp_path / "drop")
    (folder / "ssd_professionals.csv").write_bytes(text.encode("cp1252"))
    frame = extract_sources(str(folder))["ssd_professionals"].frame
    assert frame.loc[0, "prof_professional_name"] == "Zoë Brontë"
    assert frame.loc[0, "prof_professional_job_title"] == "Social Worker £ band"


def test_xlsx_file_and_column_mapping(tmp_path):
    folder = write_minimal_drop_folder(tmp_path / "drop")
    (folder / "ssd_person.csv").unlink()
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["PersonID", "Gender", "pers_ethnicity", "pers_dob", "pers_death_date"])
    sheet.append([12, "Male", "WBRI", pd.Timestamp("2014-05-06").to_pydatetime(), None])
    workbook.save(folder / "ssd_person.xlsx")
    mapping = {"ssd_person": SourceMapping(columns={"PersonID": "pers_person_id", "Gender": "pers_sex"},
                                           values={"pers_sex": {"Male": "M", "Female": "F"}})}
    frame = extract_sources(str(folder), mapping)["ssd_person"].frame
    assert frame.loc[0, "pers_person_id"] == "12"
    assert frame.loc[0, "pers_sex"] == "M"
    assert str(frame.loc[0, "pers_dob"]) == "2014-05-06"


def test_database_source_reads_the_ssd_tables(tmp_path):
    url = f"sqlite:///{tmp_path / 'cms.sqlite'}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        for name in CASE_SYSTEM_TABLES:
            columns = ", ".join(f"{c} text" for c in TABLES[name].column_names)
            connection.execute(sa.text(f"create table {name} ({columns})"))
        connection.execute(sa.text("insert into ssd_contacts (cont_contact_id, cont_person_id, "
                                   "cont_contact_date) values ('C1', 'P1', '2024-03-04 10:30:00')"))
    engine.dispose()
    extracts = extract_sources(url)
    contacts = extracts["ssd_contacts"].frame
    assert str(contacts.loc[0, "cont_contact_date"]) == "2024-03-04"
    assert len(extracts["ssd_contacts"].sha256) == 64


def test_database_source_missing_table_is_named(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    sa.create_engine(url).connect().close()
    with pytest.raises(ExtractError, match="database source: table.*ssd_person.*not found"):
        extract_sources(url)


def test_archive_is_read_only_with_matching_checksums(tmp_path):
    folder = write_minimal_drop_folder(tmp_path / "drop", {"ssd_person": PERSON_CSV})
    extracts = extract_sources(str(folder))
    manifest = archive_extracts(extracts, tmp_path / "archive", "run-1")
    person = next(m for m in manifest if m["table_name"] == "ssd_person")
    archived = tmp_path / "archive" / "run-1" / "ssd_person.csv"
    assert person["sha256"] == hashlib.sha256(PERSON_CSV.encode()).hexdigest()
    assert hashlib.sha256(archived.read_bytes()).hexdigest() == person["sha256"]
    assert person["row_count"] == 2
    assert not os.stat(archived).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    sums = (tmp_path / "archive" / "run-1" / "SHA256SUMS").read_text()
    assert f"{person['sha256']}  ssd_person.csv" in sums
