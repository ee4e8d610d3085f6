"""The data contracts of ../shared/spec/sources.md: every table, column and type.

Types: `id` and `text` are strings, `date` a calendar date (any time part dropped),
`flag` a Y/N flag normalised on load (kpis.md: "Y, y, Yes, YES, 1, true, TRUE mean Y
and N, n, No, 0, false mean N; any other value is kept as it is"), `number` a decimal.
The first column of each table is its row id.
"""

from __future__ import annotations

from dataclasses import dataclass

CASE_SYSTEM = "case_system"
QA = "qa_activity"
COMPLAINTS = "complaints"
IRO = "iro"
SURVEYS = "surveys"


@dataclass(frozen=True)
class Column:
    name: str
    type: str = "text"


@dataclass(frozen=True)
class SourceTable:
    name: str
    family: str
    columns: tuple[Column, ...]
    optional: frozenset[str] = frozenset()

    @property
    def id_column(self) -> str:
        return self.columns[0].name

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def columns_of_type(self, kind: str) -> list[str]:
        return [c.name for c in self.columns if c.type == kind]

    @property
    def required_columns(self) -> list[str]:
        return [c for c in self.column_names if c not in self.optional]


def _table(name: str, family: str, spec: str, optional: str = "") -> SourceTable:
    columns = []
    for item in spec.split():
        column, _, kind = item.partition(":")
        columns.append(Column(column, kind or "text"))
    return SourceTable(name, family, tuple(columns), frozenset(optional.split()))


TABLES: dict[str, SourceTable] = {t.name: t for t in [
    _table("ssd_person", CASE_SYSTEM,
           "pers_person_id:id pers_sex pers_ethnicity pers_dob:date pers_death_date:date"),
    _table("ssd_department", CASE_SYSTEM,
           "dept_team_id:id dept_team_name dept_team_parent_id:id dept_team_parent_name"),
    _table("ssd_professionals", CASE_SYSTEM,
           "prof_professional_id:id prof_staff_id:id prof_professional_name "
           "prof_professional_job_title prof_professional_department "
           "prof_full_time_equivalency:number prof_agency_worker_flag:flag"),
    _table("ssd_involvements", CASE_SYSTEM,
           "invo_involvements_id:id invo_professional_id:id invo_professional_role_id "
           "invo_professional_team:id invo_involvement_start_date:date "
           "invo_involvement_end_date:date invo_person_id:id invo_referral_id:id"),
    _table("ssd_contacts", CASE_SYSTEM,
           "cont_contact_id:id cont_person_id:id cont_contact_date:date cont_contact_source_code"),
    _table("ssd_cin_episodes", CASE_SYSTEM,
           "cine_referral_id:id cine_person_id:id cine_referral_date:date "
           "cine_cin_primary_need_code cine_referral_source_code cine_referral_nfa:flag "
           "cine_close_reason cine_close_date:date cine_referral_team:id cine_referral_worker_id:id"),
    _table("ssd_cin_assessments", CASE_SYSTEM,
           "cina_assessment_id:id cina_person_id:id cina_referral_id:id "
           "cina_assessment_start_date:date cina_assessment_child_seen:flag "
           "cina_assessment_auth_date:date cina_assessment_outcome_nfa:flag "
           "cina_assessment_team:id cina_assessment_worker_id:id"),
    _table("ssd_cin_plans", CASE_SYSTEM,
           "cinp_cin_plan_id:id cinp_referral_id:id cinp_person_id:id "
           "cinp_cin_plan_start_date:date cinp_cin_plan_end_date:date cinp_cin_plan_team:id "
           "cinp_cin_plan_worker_id:id"),
    _table("ssd_cin_visits", CASE_SYSTEM,
           "cinv_cin_visit_id:id cinv_person_id:id cinv_cin_visit_date:date "
           "cinv_cin_visit_seen:flag cinv_cin_visit_seen_alone:flag"),
    _table("ssd_s47_enquiry", CASE_SYSTEM,
           "s47e_s47_enquiry_id:id s47e_referral_id:id s47e_person_id:id "
           "s47e_s47_start_date:date s47e_s47_end_date:date s47e_s47_nfa:flag "
           "s47e_s47_completed_by_team:id s47e_s47_completed_by_worker_id:id"),
    _table("ssd_initial_cp_conference", CASE_SYSTEM,
           "icpc_icpc_id:id icpc_s47_enquiry_id:id icpc_person_id:id icpc_cp_plan_id:id "
           "icpc_referral_id:id icpc_icpc_transfer_in:flag icpc_icpc_target_date:date "
           "icpc_icpc_date:date icpc_icpc_outcome_cp_flag:flag icpc_icpc_team:id "
           "icpc_icpc_worker_id:id"),
    _table("ssd_cp_plans", CASE_SYSTEM,
           "cppl_cp_plan_id:id cppl_referral_id:id cppl_icpc_id:id cppl_person_id:id "
           "cppl_cp_plan_start_date:date cppl_cp_plan_end_date:date "
           "cppl_cp_plan_initial_category cppl_cp_plan_latest_category"),
    _table("ssd_cp_visits", CASE_SYSTEM,
           "cppv_cp_visit_id:id cppv_person_id:id cppv_cp_plan_id:id cppv_cp_visit_date:date "
           "cppv_cp_visit_seen:flag cppv_cp_visit_seen_alone:flag cppv_cp_visit_bedroom:flag"),
    _table("ssd_cp_reviews", CASE_SYSTEM,
           "cppr_cp_review_id:id cppr_person_id:id cppr_cp_plan_id:id cppr_cp_review_due:date "
           "cppr_cp_review_date:date cppr_cp_review_participation"),
    _table("ssd_cla_episodes", CASE_SYSTEM,
           "clae_cla_episode_id:id clae_person_id:id clae_cla_episode_start_date:date "
           "clae_cla_episode_start_reason clae_cla_primary_need_code "
           "clae_cla_episode_ceased_date:date clae_cla_episode_ceased_reason clae_cla_id:id "
           "clae_referral_id:id clae_cla_placement_id:id clae_entered_care_date:date"),
    _table("ssd_cla_placement", CASE_SYSTEM,
           "clap_cla_placement_id:id clap_cla_id:id clap_person_id:id "
           "clap_cla_placement_start_date:date clap_cla_placement_end_date:date "
           "clap_cla_placement_type clap_cla_placement_distance:number "
           "clap_cla_placement_change_reason"),
    _table("ssd_cla_reviews", CASE_SYSTEM,
           "clar_cla_review_id:id clar_cla_id:id clar_cla_review_due_date:date "
           "clar_cla_review_date:date clar_cla_review_cancelled:flag "
           "clar_cla_review_participation clar_cla_person_id:id",
           optional="clar_cla_person_id"),
    _table("ssd_cla_visits", CASE_SYSTEM,
           "clav_cla_visit_id:id clav_cla_id:id clav_person_id:id clav_cla_visit_date:date "
           "clav_cla_visit_seen:flag clav_cla_visit_seen_alone:flag"),
    _table("ssd_missing", CASE_SYSTEM,
           "miss_table_id:id miss_person_id:id miss_missing_episode_start_date:date "
           "miss_missing_episode_type miss_missing_episode_end_date:date "
           "miss_missing_rhi_offered:flag miss_missing_rhi_accepted:flag"),
    _table("ssd_care_leavers", CASE_SYSTEM,
           "clea_table_id:id clea_person_id:id clea_care_leaver_eligibility "
           "clea_care_leaver_in_touch clea_care_leaver_latest_contact:date "
           "clea_care_leaver_accommodation clea_care_leaver_accom_suitable "
           "clea_care_leaver_activity clea_pathway_plan_review_date:date "
           "clea_care_leaver_allocated_team:id clea_care_leaver_worker_id:id"),
    _table("qa_audits", QA,
           "audit_id:id audit_type theme service_area person_id:id team_id:id worker_id:id "
           "auditor_id:id auditor_role allocated_date:date due_date:date completed_date:date "
           "submitted_date:date grade stretch_target_set:flag family_feedback_sought:flag "
           "actions_count:number follow_up_due_date:date follow_up_completed_date:date "
           "actions_completed original_audit_id:id"),
    _table("qa_moderations", QA,
           "moderation_id:id audit_id:id moderator_id:id moderation_type moderated_date:date "
           "moderated_grade feedback_given:flag"),
    _table("qa_observations", QA,
           "observation_id:id observation_type observer_id:id observer_role "
           "observed_staff_id:id team_id:id observed_date:date consent_recorded:flag rating"),
    _table("qa_audit_findings", QA,
           "finding_id:id audit_id:id domain finding_type summary share:flag"),
    _table("qa_staff", QA,
           "staff_id:id name role team_id:id service_area start_date:date end_date:date"),
    _table("complaints", COMPLAINTS,
           "complaint_id:id received_date:date stage parent_complaint_id:id complainant_type "
           "advocacy_offered:flag service_area team_id:id person_id:id category "
           "acknowledged_date:date response_due_date:date extended:flag response_date:date "
           "outcome", optional="person_id"),
    _table("compliments", COMPLAINTS,
           "compliment_id:id received_date:date service_area team_id:id from_type theme"),
    _table("learning_actions", COMPLAINTS,
           "action_id:id source source_id:id description owner_id:id raised_date:date "
           "due_date:date completed_date:date"),
    _table("iro_monitoring_forms", IRO,
           "form_id:id meeting_type meeting_date:date person_id:id iro_id:id team_id:id "
           "quorate:flag participation_code child_views_obtained:flag plan_progress "
           "midpoint_review_date:date good_practice_noted:flag concern_raised:flag"),
    _table("iro_drp_alerts", IRO,
           "drp_id:id raised_date:date person_id:id iro_id:id team_id:id stage theme "
           "resolution_due_date:date resolved_date:date outcome"),
    _table("survey_questions", SURVEYS,
           "survey_id:id survey_name question_id:id question_text scale positive_values"),
    _table("survey_responses", SURVEYS,
           "survey_id:id response_id:id respondent_type submitted_date:date team_id:id "
           "question_id:id answer", optional="team_id"),
]}

CASE_SYSTEM_TABLES = [name for name, t in TABLES.items() if t.family == CASE_SYSTEM]


def row_key(table: SourceTable) -> list[str]:
    """The columns that identify a row: survey questions and responses are keyed by
    (survey, question) and (response, question); every other table by its id."""
    if table.name == "survey_questions":
        return ["survey_id", "question_id"]
    if table.name == "survey_responses":
        return ["response_id", "question_id"]
    return [table.id_column]
