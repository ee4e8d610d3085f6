"""The independent complaints, DRP/IRO and survey re-computation on a hand-built folder:
each figure worked by hand from kpis.md's words (period 2024-Q1; period_end Sunday
31 March 2024; Good Friday 29 March, Christmas, Boxing Day and New Year's Day are bank
holidays). No flow and no project SQL."""

from __future__ import annotations

from datetime import date

import pandas as pd

from tests.independent.complaints_participation import reference_figures

START, END = date(2024, 1, 1), date(2024, 3, 31)


def write(folder, table: str, columns: str, rows: list[str]) -> None:
    (folder / f"{table}.csv").write_text("\n".join([columns, *rows]) + "\n", encoding="utf-8")


def hand_built(folder) -> None:
    write(folder, "complaints", "complaint_id,received_date,stage,parent_complaint_id,complainant_type,"
          "service_area,extended,response_date,outcome", [
              "C1,2023-12-15,1,,parent or carer,Social Care,N,2024-01-03,upheld",  # 10 working days
              "C2,2024-02-01,1,,child or young person,Social Care,yes,2024-02-29,partially upheld",  # 20, extended
              "C3,2024-02-01,1,,child or young person,Early Help,N,2024-02-29,withdrawn",  # 20, not extended
              "C4,2024-03-01,LGSCO,,other,Social Care,N,,",
              "C5,2023-11-01,1,,other,Social Care,N,2023-11-20,not upheld",
              "C6,2023-11-01,1,,other,Social Care,N,2023-11-21,not upheld",
              "C7,2024-01-15,2,C5,other,A/B: x=y,N,2024-02-19,not upheld",  # 25 working days
              "C8,2024-04-02,2,C6,other,Social Care,N,,",  # after period_end: does not exist yet
          ])
    write(folder, "compliments", "compliment_id,received_date,theme", [
        "K1,2024-01-02,outcomes", "K2,2024-03-31,outcomes", "K3,2024-04-01,outcomes"])
    write(folder, "learning_actions", "action_id,raised_date,due_date,completed_date", [
        "A1,2024-01-05,2024-03-31,",  # due on period_end: not overdue
        "A2,2024-01-05,2024-03-01,2024-03-31",  # closed on period_end
        "A3,2024-01-05,2024-03-01,2024-04-02",  # open at period_end and overdue
        "A4,2024-04-01,2024-03-01,"])  # raised after period_end
    write(folder, "iro_drp_alerts", "drp_id,raised_date,stage,theme,resolved_date", [
        "D1,2024-02-29,informal,health,", "D2,2024-02-28,1,health,",  # open: 20 and 21 working days
        "D3,2024-02-29,1,care plan drift,2024-03-28", "D4,2024-02-28,2,health,2024-03-28",  # 20 and 21
        "D5,2023-12-01,1,health,2024-04-02"])  # resolved after period_end: open, 84 working days
    write(folder, "ssd_cla_episodes", "clae_cla_id,clae_person_id", ["CLA1,P1"])
    write(folder, "ssd_cla_reviews", "clar_cla_review_id,clar_cla_id,clar_cla_review_date,clar_cla_review_cancelled,"
          "clar_cla_review_participation", [
              "R1,CLA1,2024-02-01,N,PN1", "R2,CLA1,2024-02-02,Y,PN1", "R3,CLA1,2024-03-01,,PN0"])
    write(folder, "ssd_cp_reviews", "cppr_cp_review_id,cppr_person_id,cppr_cp_review_date,cppr_cp_review_participation",
          ["V1,P2,2024-02-05,PN7", "V2,P2,2024-02-06,PN6", "V3,P2,2024-02-07,"])
    write(folder, "ssd_initial_cp_conference", "icpc_icpc_id,icpc_person_id,icpc_icpc_date", ["I1,P3,2024-01-09"])
    write(folder, "iro_monitoring_forms", "form_id,meeting_type,person_id,meeting_date", [
        "F1,CLA review,P1,2024-02-01", "F2,CP review,P2,2024-02-06", "F3,ICPC,P3,2024-01-10"])  # F3: a day out
    write(folder, "survey_questions", "survey_id,question_id,scale,positive_values", [
        "S1,Q1,likert5,4;5", "S1,Q2,likert5,4;5", "S1,Q3,text,"])
    write(folder, "survey_responses", "survey_id,response_id,respondent_type,submitted_date,question_id,answer", [
        "S1,R1,child or young person,2024-02-10,Q1,5", "S1,R1,child or young person,2024-02-10,Q2,3",
        "S1,R1,child or young person,2024-02-10,Q3,good",
        "S1,R2,foster carer,2024-03-10,Q1,", "S1,R2,foster carer,2024-03-10,Q2,6",
        "S1,R3,foster carer,2024-04-10,Q1,5"])


def test_every_figure_is_worked_by_hand(tmp_path):
    hand_built(tmp_path)
    figures = reference_figures(tmp_path, START, END)
    assert figures == {
        "CMP01": (4, 4, None), "CMP01:stage=1": (2, 2, None), "CMP01:stage=2": (1, 1, None),
        "CMP01:stage=3": (0, 0, None), "CMP01:stage=Ombudsman": (1, 1, None),
        "CMP01:complainant=child or young person": (2, 2, None), "CMP01:complainant=adult": (2, 2, None),
        "CMP01:service_area=Social Care": (2, 2, None), "CMP01:service_area=Early Help": (1, 1, None),
        "CMP01:service_area=A%2FB%3A x%3Dy": (1, 1, None),
        "CMP02": (66.7, 2, 3), "CMP03": (100.0, 1, 1),
        "CMP04": (50.0, 2, 4), "CMP04:upheld": (25.0, 1, 4), "CMP04:partially_upheld": (25.0, 1, 4),
        "CMP05": (50.0, 1, 2),
        "CMP06": (2, 2, None), "CMP06:theme=outcomes": (2, 2, None), "CMP07": (1, 1, None),
        "IRO01": (4, 4, None), "IRO01:stage=informal": (1, 1, None), "IRO01:stage=1": (2, 2, None),
        "IRO01:stage=2": (1, 1, None), "IRO01:stage=3": (0, 0, None), "IRO01:stage=Cafcass": (0, 0, None),
        "IRO01:theme=health": (3, 3, None), "IRO01:theme=care plan drift": (1, 1, None),
        "IRO02": (50.0, 1, 2), "IRO03": (2, 2, None),  # D2 (21 working days) and D5; D1 is exactly 20
        "IRO04": (66.7, 2, 3),  # R1 PN1, V1 PN7, V2 PN6; R2 cancelled, R3 PN0 and V3 empty outside
        "IRO05": (33.3, 2, 6),  # R1, R3, V1, V2, V3 and I1 held; forms for R1 and V2 (F3 is a day out)
        "SUR01": (2, 2, None), "SUR01:survey=S1": (2, 2, None),
        "SUR01:respondent_type=child or young person": (1, 1, None),
        "SUR01:respondent_type=foster carer": (1, 1, None),
        "SUR02": (33.3, 1, 3),  # a blank answer is not an answer; "6" is an answer, not positive
        "SUR02:question=S1/Q1": (100.0, 1, 1), "SUR02:question=S1/Q2": (0.0, 0, 2),
        "SUR02:question=S1/Q1:respondent_type=child or young person": (100.0, 1, 1),
        "SUR02:question=S1/Q2:respondent_type=child or young person": (0.0, 0, 1),
        "SUR02:question=S1/Q2:respondent_type=foster carer": (0.0, 0, 1),
    }


def test_an_unchanged_frame_has_no_differences(tmp_path):
    from tests.independent.complaints_participation import differences_from_the_reference
    hand_built(tmp_path)
    rows = [{"kpi_id": k, "level": "la", "value": "" if v is None else str(v), "numerator": str(n),
             "denominator": "" if d is None else str(d)}
            for k, (v, n, d) in reference_figures(tmp_path, START, END).items()]
    frame = pd.DataFrame(rows)
    assert differences_from_the_reference(frame, tmp_path, START, END) == []
    frame.loc[frame["kpi_id"] == "IRO03", "numerator"] = "3"
    assert differences_from_the_reference(frame, tmp_path, START, END) == [
        "IRO03: published (2.0, 3.0, None), reference (2.0, 2.0, None)"]
