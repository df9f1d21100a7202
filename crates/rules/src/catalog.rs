//! The views as a declared interface: one table says, for each view, its grain, the date column
//! a rule's effective dates apply to, the input tables it is built from, whether its rows are
//! keyed by enrolment (their claims are found from `class_id` and `person_id`), and every column
//! with its kind and a one-line doc. The runner, the rule checker, `subsidy-audit rules views`
//! and docs/rules.md read this table. The column types are the built view's own
//! ([`crate::view_schemas`]); a test checks that the declared columns are exactly the built ones
//! and that each kind agrees with its type.

use subsidy_model::contract::Table;

use crate::expr::Ty;

/// What a view column holds, beyond its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// an identifier compared for equality: a key, code, account, phone number or hash (text)
    Id,
    /// free text for a reader (text)
    Text,
    /// one of a closed vocabulary: a contract enum, or the values its doc lists (text)
    Code,
    /// a `;`-separated list (text)
    List,
    /// money in integer fen (integer)
    Money,
    /// a count of rows, persons or days (integer)
    Count,
    /// 学时, 45 minutes each (decimal)
    Hours,
    /// another quantity: a year, rank, digit, tier, score, distance or ratio (integer or decimal)
    Number,
    /// a fraction from 0 to 1 (decimal)
    Share,
    /// a date
    Date,
    /// a date and time, China Standard Time wall clock
    DateTime,
    /// true or false (bool)
    Flag,
}

impl ColumnKind {
    /// Every kind, in the order they are described.
    pub const ALL: [ColumnKind; 12] = [
        ColumnKind::Id,
        ColumnKind::Text,
        ColumnKind::Code,
        ColumnKind::List,
        ColumnKind::Money,
        ColumnKind::Count,
        ColumnKind::Hours,
        ColumnKind::Number,
        ColumnKind::Share,
        ColumnKind::Date,
        ColumnKind::DateTime,
        ColumnKind::Flag,
    ];

    /// The short name `rules views` and docs/rules.md show.
    pub fn as_str(self) -> &'static str {
        match self {
            ColumnKind::Id => "id",
            ColumnKind::Text => "text",
            ColumnKind::Code => "code",
            ColumnKind::List => "list",
            ColumnKind::Money => "money",
            ColumnKind::Count => "count",
            ColumnKind::Hours => "hours",
            ColumnKind::Number => "number",
            ColumnKind::Share => "share",
            ColumnKind::Date => "date",
            ColumnKind::DateTime => "datetime",
            ColumnKind::Flag => "flag",
        }
    }

    /// What the kind means, for the docs.
    pub fn doc(self) -> &'static str {
        match self {
            ColumnKind::Id => {
                "an identifier compared for equality (a key, code, account, phone, hash)"
            }
            ColumnKind::Text => "free text for a reader",
            ColumnKind::Code => {
                "one of a closed vocabulary (a contract enum, or the values listed)"
            }
            ColumnKind::List => "a `;`-separated list",
            ColumnKind::Money => "integer fen (1 yuan = 100 fen)",
            ColumnKind::Count => "a whole count",
            ColumnKind::Hours => "学时 (45 minutes each)",
            ColumnKind::Number => "another quantity (year, rank, tier, score, distance, ratio)",
            ColumnKind::Share => "a fraction from 0 to 1",
            ColumnKind::Date => "a date",
            ColumnKind::DateTime => "a date and time (CST wall clock)",
            ColumnKind::Flag => "true or false",
        }
    }

    /// Whether a column of this kind may have the expression type `ty`.
    pub fn admits(self, ty: Ty) -> bool {
        match self {
            ColumnKind::Id | ColumnKind::Text | ColumnKind::Code | ColumnKind::List => {
                ty == Ty::Str
            }
            ColumnKind::Money | ColumnKind::Count => ty == Ty::Int,
            ColumnKind::Hours | ColumnKind::Share => ty == Ty::Float,
            ColumnKind::Number => matches!(ty, Ty::Int | Ty::Float),
            ColumnKind::Date => ty == Ty::Date,
            ColumnKind::DateTime => ty == Ty::Datetime,
            ColumnKind::Flag => ty == Ty::Bool,
        }
    }
}

/// One column of a view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// the name rule expressions use
    pub name: &'static str,
    /// what it holds
    pub kind: ColumnKind,
    /// one line on its meaning, as the view builds it
    pub doc: &'static str,
}

const fn c(name: &'static str, kind: ColumnKind, doc: &'static str) -> Column {
    Column { name, kind, doc }
}

/// One view's declaration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViewDecl {
    /// the name rule files use (`view = "claim"`)
    pub name: &'static str,
    /// what one row is
    pub grain: &'static str,
    /// the column a rule's `effective_from` / `effective_until` are compared with (none: the
    /// rule applies to every row)
    pub date_column: Option<&'static str>,
    /// the input tables it is built from
    pub tables: &'static [Table],
    /// rows per sign-in or per day: a finding's claims are resolved from (class_id, person_id)
    pub keyed_by_enrolment: bool,
    /// one line on what it holds
    pub doc: &'static str,
    /// every column, with its kind and doc (exactly the built view's columns)
    pub columns: &'static [Column],
}

impl ViewDecl {
    /// The declared column named `name`.
    pub fn column(&self, name: &str) -> Option<&'static Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

use ColumnKind::*;
use Table::*;

/// The claim view's columns, grouped by where they come from. A `party_*` column's doc names the
/// rule `responsible` role it answers for.
const CLAIM_COLUMNS: &[Column] = &[
    // the claim, with its class and evaluation found by the contract's convention
    c("claim_id", Id, "the claim (the key)"),
    c("scheme", Code, "the subsidy scheme (claims.scheme)"),
    c(
        "scheme_route",
        Code,
        "the scheme's fund route: unemployment_insurance for skill_upgrade; employment for training, apprenticeship and project; null otherwise",
    ),
    c(
        "claimant_id",
        Id,
        "who applied: an institution_id, or the person_id when the trainee applied",
    ),
    c(
        "claimant_is_person",
        Flag,
        "claimant_id equals person_id: the trainee applied personally",
    ),
    c("person_id", Id, "the trainee the claim is for"),
    c(
        "class_id",
        Id,
        "the claim's class: its own class_id, else its evaluation row's, else the person's enrolment in a class of the claimed occupation and level started by the exam (or claim) date, one covering that date first, else the latest",
    ),
    c(
        "class_source",
        Code,
        "where class_id came from: claim, evaluation or enrollment (null: no class)",
    ),
    c("claim_class_id", Id, "class_id as the claim itself gave it"),
    c(
        "evaluation_id",
        Id,
        "the claim's evaluation: its own evaluation_id, else the person's evaluation row carrying certificate_no (the least evaluation_id)",
    ),
    c(
        "claim_evaluation_id",
        Id,
        "evaluation_id as the claim itself gave it",
    ),
    c("certificate_no", Id, "the certificate number on the claim"),
    c("occupation_code", Id, "the claimed occupation"),
    c("level", Code, "the claimed level"),
    c(
        "level_rank",
        Number,
        "level on the eight-grade ladder, apprentice 0 … chief_technician 7 (null: special_ability)",
    ),
    c(
        "level_digit",
        Number,
        "the certificate level digit of level, junior 5 … senior_technician 1 (null: other levels)",
    ),
    c("amount_claimed", Money, "the amount claimed"),
    c("amount_paid", Money, "the amount paid (null: not paid yet)"),
    c("claimed_on", Date, "the claim date"),
    c("claim_year", Number, "the year of claimed_on"),
    c("paid_on", Date, "the payment date"),
    c("payee_account", Id, "the account the money went to"),
    c(
        "fund_source",
        Code,
        "the fund it was paid from (claims.fund_source)",
    ),
    c(
        "approver",
        Id,
        "the department that approved the claim (code or name)",
    ),
    c(
        "judged_on",
        Date,
        "the date the claim is judged on: class_start, else eval_date, else claimed_on",
    ),
    // the person
    c("person_name", Text, "the person's name"),
    c("gender", Code, "the recorded gender, m or f"),
    c(
        "is_male",
        Flag,
        "gender is m; without a recorded gender, id_male",
    ),
    c("birth_date", Date, "the recorded birth date"),
    c(
        "age_at_start",
        Number,
        "whole years from birth_date (else id_birth_date) to judged_on",
    ),
    c(
        "bank_account",
        Id,
        "the person's own account for subsidies (persons.bank_account)",
    ),
    c("phone", Id, "the person's phone number"),
    c("hukou_region", Id, "the person's hukou region code"),
    c("employer_id", Id, "institution_id of the person's employer"),
    c(
        "id_valid",
        Flag,
        "person_id passes the GB 11643 check: 17 digits and a digit or X, a region prefix, a real past birth date, the check character",
    ),
    c(
        "id_problem",
        Text,
        "why person_id fails that check (null: valid)",
    ),
    c(
        "id_problem_zh",
        Text,
        "the same in Chinese, for `message_zh`",
    ),
    c(
        "id_birth_date",
        Date,
        "the birth date in person_id, characters 7–14 (null: not a real date)",
    ),
    c(
        "id_male",
        Flag,
        "the gender in person_id: an odd 17th digit is male",
    ),
    c(
        "identity_id",
        Id,
        "the real person behind person_id (identity resolution; else person_id itself)",
    ),
    c(
        "identity_persons",
        Count,
        "distinct person_ids among the claims of this identity_id (2+: one person under several registrations)",
    ),
    // the person's statuses (person_status): per status, its rows' earliest start and latest end
    c(
        "deceased_from",
        Date,
        "the earliest valid_from of the person's deceased status",
    ),
    c(
        "pensioner_from",
        Date,
        "the earliest valid_from of the person's pensioner status",
    ),
    c(
        "student_from",
        Date,
        "the earliest valid_from of the person's full_time_student status",
    ),
    c(
        "student_until",
        Date,
        "the latest valid_until of it (null: open-ended, or no such status)",
    ),
    c(
        "payroll_from",
        Date,
        "the earliest valid_from of the person's public_payroll status",
    ),
    c(
        "payroll_until",
        Date,
        "the latest valid_until of it (null: open-ended, or no such status)",
    ),
    c(
        "ui_from",
        Date,
        "the earliest valid_from of the person's ui_insured status",
    ),
    c(
        "ui_until",
        Date,
        "the latest valid_until of it (null: open-ended, or no such status)",
    ),
    c(
        "graduate_from",
        Date,
        "the earliest valid_from of the person's graduate status",
    ),
    c(
        "graduate_until",
        Date,
        "the latest valid_until of it (null: open-ended, or no such status)",
    ),
    c(
        "key_group_from",
        Date,
        "the earliest valid_from of a key-group status: poverty_alleviated, hard_to_employ, zero_employment_family or disabled",
    ),
    // the class
    c("class_institution_id", Id, "the class's institution"),
    c(
        "class_mode",
        Code,
        "the class's mode: offline, online or blended",
    ),
    c("filed_on", Date, "the class's filing (开班备案) date"),
    c("class_start", Date, "the class's start_date"),
    c("class_end", Date, "the class's end_date"),
    c("planned_hours", Hours, "the class's planned 学时"),
    c(
        "timetabled_hours",
        Hours,
        "the class's timetabled 学时: its distinct sessions' minutes over 45 (null: no sessions)",
    ),
    c(
        "fee_per_trainee",
        Money,
        "what the class's institution charges each trainee",
    ),
    c("teacher_id", Id, "the class's main teacher"),
    // the institution
    c(
        "institution_id",
        Id,
        "the training institution: the class's, else the claimant; null when that is not in institutions",
    ),
    c(
        "inst_kind",
        Code,
        "its kind: training, evaluation, enterprise or school",
    ),
    c("inst_region", Id, "its region code"),
    c(
        "in_catalogue_from",
        Date,
        "when it entered the 培训机构目录",
    ),
    c(
        "in_catalogue_until",
        Date,
        "when it left the catalogue (null: still in)",
    ),
    c(
        "revoked_on",
        Date,
        "when its qualification was revoked (取消资质)",
    ),
    c(
        "approved_occupations",
        List,
        "the occupation codes it is filed for (null: not recorded)",
    ),
    c(
        "occupation_approved",
        Flag,
        "approved_occupations lists occupation_code (null: scope not recorded)",
    ),
    c(
        "supervisor",
        Id,
        "its supervising department (code or name)",
    ),
    // the occupation version in force on judged_on
    c(
        "shortage_tier",
        Number,
        "the shortage tier 0..3 of the occupation version in force on judged_on",
    ),
    c("standard_hours", Hours, "the minimum 学时 of that version"),
    c(
        "occupation_in_catalogue",
        Flag,
        "a version in force on judged_on gives a shortage tier",
    ),
    // the evaluation and its sitting
    c(
        "evaluation_org_id",
        Id,
        "the evaluation organisation of the claim's evaluation",
    ),
    c(
        "eval_org_province",
        Id,
        "the first two digits of that organisation's region code",
    ),
    c("eval_starts_at", DateTime, "when the evaluation started"),
    c("eval_date", Date, "the day the evaluation started"),
    c(
        "eval_cert_issued_on",
        Date,
        "certificate_issued_on of the evaluation row",
    ),
    c(
        "sitting_candidates",
        Count,
        "candidates in its sitting (organisation, site, start, occupation and level)",
    ),
    c(
        "sitting_all_passed",
        Flag,
        "every candidate of the sitting passed",
    ),
    c(
        "sitting_score_sd",
        Number,
        "the smaller of the sitting's theory and practical score sample standard deviations",
    ),
    c(
        "answer_dup_count",
        Count,
        "evaluation rows of the same organisation, site and start with its answer_hash, itself included (null: no hash)",
    ),
    c(
        "practical_dup_count",
        Count,
        "candidates of the same sitting with its practical score, as a number, itself included (null: no score)",
    ),
    // the certificate
    c(
        "cert_holder",
        Id,
        "person_id of the evaluation row carrying certificate_no (the earliest issued)",
    ),
    c("cert_issued_on", Date, "that row's certificate_issued_on"),
    c(
        "cert_is_level",
        Flag,
        "certificate_no is judged as a 职业技能等级证书 (FE-05): a level with a certificate digit, and a skill_upgrade or evaluation scheme, a level-family number or one issued at a sitting",
    ),
    c(
        "cert_level_family",
        Flag,
        "certificate_no is of the level-certificate family: Y or S (a second letter allowed), then four or more digits only",
    ),
    c(
        "cert_structure_ok",
        Flag,
        "certificate_no is Y or S and 21 digits with a level digit 1–5 (null: no certificate)",
    ),
    c(
        "cert_level_digit",
        Number,
        "the level digit in the number, character 16 (null: not well-formed)",
    ),
    c(
        "cert_year",
        Number,
        "the year in the number, 2000 + characters 14–15 (null: not well-formed)",
    ),
    c(
        "cert_filed_province",
        Id,
        "the province code in the number, characters 6–7, when filed provincially (organisation code 0000)",
    ),
    // the sign-ins of the claim's enrolment (class_id, person_id): null without sign-ins
    c(
        "days_attended",
        Count,
        "days with credited 学时 in the claim's enrolment (class_id, person_id); null: no sign-ins",
    ),
    c(
        "verified_hours",
        Hours,
        "the credited 学时 of the enrolment, summed over its days",
    ),
    c("max_day_hours", Hours, "the most 学时 credited on one day"),
    c(
        "max_span_h",
        Number,
        "the longest first-sign-in-to-last-sign-out span of one day, in clock hours",
    ),
    c(
        "attendance_ratio",
        Number,
        "verified_hours (0 without sign-ins) over planned_hours, may exceed 1 (null: planned_hours not above 0)",
    ),
    c(
        "face_checks",
        Count,
        "face sign-ins and sign-outs with a score",
    ),
    c(
        "face_fails",
        Count,
        "those scoring below the pack's face_pass_score",
    ),
    c(
        "face_fail_share",
        Share,
        "face_fails over face_checks (0 without checks)",
    ),
    c(
        "class_face_fail_share",
        Share,
        "the class's failed face checks over its face checks (null: none)",
    ),
    c(
        "class_max_verified_hours",
        Hours,
        "the most verified 学时 of any trainee of the class: what the class delivered (null: no sign-ins of this trainee)",
    ),
    c(
        "max_distance_m",
        Number,
        "the farthest sign-in or sign-out from the class's venue, in metres",
    ),
    // the entitlement (clause 17)
    c(
        "entitled",
        Money,
        "the matching standard's amount × (1 + its uplift for shortage_tier, at most uplift_max) (null: no standard matches)",
    ),
    c(
        "entitlement_basis",
        Text,
        "which standard and uplift gave entitled",
    ),
    c(
        "entitlement_basis_zh",
        Text,
        "the same in Chinese, for `message_zh`",
    ),
    // who answers, what a finding is about, the claims it bears on
    c(
        "party_training_institution",
        Id,
        "answers for training_institution: the class's institution, else institution_id when a training institution or school",
    ),
    c(
        "party_evaluation_organisation",
        Id,
        "answers for evaluation_organisation: evaluation_org_id",
    ),
    c(
        "party_enterprise",
        Id,
        "answers for enterprise: institution_id when an enterprise, else the person's employer_id",
    ),
    c("party_trainee", Id, "answers for trainee: person_id"),
    c(
        "party_approving_department",
        Id,
        "answers for approving_department: approver",
    ),
    c("entity", Id, "what a finding is about: claim_id"),
    c("claim_ids", List, "the claims a finding bears on: claim_id"),
];

const PERSON_COLUMNS: &[Column] = &[
    c("person_id", Id, "the resident ID as recorded (the key)"),
    c("name", Text, "the person's name"),
    c("gender", Code, "the recorded gender, m or f"),
    c("birth_date", Date, "the recorded birth date"),
    c("phone", Id, "the phone number"),
    c(
        "bank_account",
        Id,
        "the account subsidies for the person are paid into",
    ),
    c("hukou_region", Id, "the hukou region code"),
    c("address", Text, "the contact or household address"),
    c("employer_id", Id, "institution_id of the employer"),
    c("frontline", Flag, "a frontline (一线) worker"),
    c(
        "id_valid",
        Flag,
        "person_id passes the GB 11643 check: 17 digits and a digit or X, a region prefix, a real past birth date, the check character",
    ),
    c(
        "id_problem",
        Text,
        "why person_id fails that check (null: valid)",
    ),
    c(
        "id_problem_zh",
        Text,
        "the same in Chinese, for `message_zh`",
    ),
    c(
        "id_birth_date",
        Date,
        "the birth date in person_id, characters 7–14 (null: not a real date)",
    ),
    c(
        "id_male",
        Flag,
        "the gender in person_id: an odd 17th digit is male",
    ),
    c("party_trainee", Id, "answers for trainee: person_id"),
    c("entity", Id, "what a finding is about: person_id"),
    c(
        "claim_ids",
        List,
        "empty: a finding on a person names no claims",
    ),
];

const INSTITUTION_COLUMNS: &[Column] = &[
    c("institution_id", Id, "the 统一社会信用代码 (the key)"),
    c("name", Text, "the institution's name"),
    c("kind", Code, "training, evaluation, enterprise or school"),
    c("region_code", Id, "the region code (GB/T 2260)"),
    c(
        "in_catalogue_from",
        Date,
        "when it entered the 培训机构目录",
    ),
    c(
        "in_catalogue_until",
        Date,
        "when it left the catalogue (null: still in)",
    ),
    c(
        "revoked_on",
        Date,
        "when its qualification was revoked (取消资质)",
    ),
    c(
        "approved_occupations",
        List,
        "the occupation codes it is filed for (null: not recorded)",
    ),
    c(
        "supervisor",
        Id,
        "its supervising department (code or name)",
    ),
    c(
        "uscc_valid",
        Flag,
        "institution_id passes the GB 32100 check (length, characters, check character); a failing embedded organisation code only warns",
    ),
    c("uscc_problem", Text, "why it fails or warns (null: valid)"),
    c(
        "uscc_problem_zh",
        Text,
        "the same in Chinese, for `message_zh`",
    ),
    c(
        "party_training_institution",
        Id,
        "answers for training_institution: institution_id",
    ),
    c(
        "party_evaluation_organisation",
        Id,
        "answers for evaluation_organisation: institution_id",
    ),
    c(
        "party_enterprise",
        Id,
        "answers for enterprise: institution_id",
    ),
    c(
        "party_approving_department",
        Id,
        "answers for approving_department: supervisor",
    ),
    c("entity", Id, "what a finding is about: institution_id"),
    c(
        "claim_ids",
        List,
        "empty: a finding on an institution names no claims",
    ),
];

const CLASS_COLUMNS: &[Column] = &[
    c("class_id", Id, "the class (the key)"),
    c("institution_id", Id, "the training institution"),
    c(
        "supervisor",
        Id,
        "the institution's supervising department (code or name)",
    ),
    c("occupation_code", Id, "the occupation trained"),
    c("level", Code, "the level trained"),
    c("mode", Code, "offline, online or blended"),
    c("filed_on", Date, "the filing (开班备案) date"),
    c("start_date", Date, "the first day of the class"),
    c("end_date", Date, "the last day of the class"),
    c("planned_hours", Hours, "the planned 学时"),
    c(
        "fee_per_trainee",
        Money,
        "what the institution charges each trainee",
    ),
    c("capacity", Count, "the filed venue capacity"),
    c("venue_lat", Number, "the filed venue's latitude"),
    c("venue_lon", Number, "the filed venue's longitude"),
    c("teacher_id", Id, "the main teacher"),
    c(
        "enrolled",
        Count,
        "persons enrolled (enrollments rows; 0: none)",
    ),
    c(
        "max_daily_trainees",
        Count,
        "the most trainees signing in (direction in) on one day (0: no sign-ins)",
    ),
    c(
        "max_concurrent_trainees",
        Count,
        "the most trainees present at one moment: sign-in to the next sign-out, inside the day's sessions where the class has them (0: no presence)",
    ),
    c(
        "party_training_institution",
        Id,
        "answers for training_institution: institution_id",
    ),
    c(
        "party_approving_department",
        Id,
        "answers for approving_department: supervisor",
    ),
    c("entity", Id, "what a finding is about: class_id"),
    c(
        "claim_ids",
        List,
        "the class's paid claims, living allowances and evaluation claims left out",
    ),
];

const EVALUATION_COLUMNS: &[Column] = &[
    c("evaluation_id", Id, "the evaluation row (the key)"),
    c("person_id", Id, "the candidate"),
    c("evaluation_org_id", Id, "the evaluation organisation"),
    c(
        "institution_id",
        Id,
        "the evaluation organisation (evaluation_org_id)",
    ),
    c(
        "class_id",
        Id,
        "the class that prepared the candidate (null: not known)",
    ),
    c("occupation_code", Id, "the occupation examined"),
    c("level", Code, "the level examined"),
    c("site_id", Id, "the exam room or site"),
    c("starts_at", DateTime, "when the exam started"),
    c("ends_at", DateTime, "when the exam ended"),
    c("evaluator_ids", List, "the examiners (考评员)"),
    c(
        "evaluator_count",
        Count,
        "the distinct examiners of evaluator_ids: items trimmed, empty ones and repeats dropped, staff ids of one person (staff.person_id) counted once (0: none)",
    ),
    c(
        "panel_teacher",
        Id,
        "the first examiner who teaches the candidate's class (its teacher_id or a session's; the evaluation's class, else the person's classes in that occupation), compared as persons through staff.person_id (null: none)",
    ),
    c("theory_score", Number, "the theory score, 0..100"),
    c("practical_score", Number, "the practical score, 0..100"),
    c("answer_hash", Id, "the hash of the answer sheet"),
    c("passed", Flag, "the candidate passed"),
    c("certificate_no", Id, "the certificate number issued"),
    c(
        "certificate_issued_on",
        Date,
        "the certificate's issue date",
    ),
    c(
        "party_evaluation_organisation",
        Id,
        "answers for evaluation_organisation: evaluation_org_id",
    ),
    c("party_trainee", Id, "answers for trainee: person_id"),
    c("entity", Id, "what a finding is about: evaluation_id"),
    c(
        "claim_ids",
        List,
        "the paid claims whose evaluation (as the claim view finds it) is this row, living allowances left out",
    ),
];

const PRESENCE_COLUMNS: &[Column] = &[
    c("class_id", Id, "the class"),
    c(
        "person_id",
        Id,
        "the trainee (enrolled in two or more classes)",
    ),
    c("day", Date, "the day of the sign-ins"),
    c("first_in", DateTime, "the day's first sign-in"),
    c("last_out", DateTime, "the day's last sign-out"),
    c(
        "present_from",
        DateTime,
        "the first moment of credited presence, inside the sessions where the class has a timetable",
    ),
    c(
        "present_until",
        DateTime,
        "the last moment of credited presence (after present_from: rows without presence are left out)",
    ),
    c("institution_id", Id, "the class's institution"),
    c("class_start", Date, "the class's start_date"),
    c(
        "max_speed_kmh",
        Number,
        "the speed (km/h) between this class's filed venue and that of the trainee's class before or after it that day, from one presence's end to the next's start; the larger (null: no other class that day, no venue, venues under 5 km apart, or no gap)",
    ),
    c(
        "party_training_institution",
        Id,
        "answers for training_institution: institution_id",
    ),
    c("party_trainee", Id, "answers for trainee: person_id"),
    c("entity", Id, "what a finding is about: person_id"),
    c(
        "claim_ids",
        List,
        "empty: a flagged row's claims are found from (class_id, person_id)",
    ),
];

const TEACHING_COLUMNS: &[Column] = &[
    c("session_id", Id, "the session (the key)"),
    c("class_id", Id, "the session's class"),
    c("starts_at", DateTime, "when the session starts"),
    c("ends_at", DateTime, "when the session ends"),
    c(
        "teacher_id",
        Id,
        "the session's own teacher (null: not given)",
    ),
    c("class_teacher", Id, "the class's main teacher"),
    c(
        "teacher",
        Id,
        "who teaches: teacher_id, else class_teacher (sessions with neither are left out)",
    ),
    c("institution_id", Id, "the class's institution"),
    c("mode", Code, "the class's mode: offline, online or blended"),
    c("venue_lat", Number, "the class's venue latitude"),
    c("venue_lon", Number, "the class's venue longitude"),
    c(
        "venue_key",
        Id,
        "the venue to 0.01°: latitude and longitude × 100, rounded, as `lat,lon` (`?`: no venue)",
    ),
    c(
        "teacher_day_hours",
        Hours,
        "the hours the teacher is filed to teach on the session's day: the union of their sessions, so classes taught together at one time count once",
    ),
    c(
        "party_training_institution",
        Id,
        "answers for training_institution: institution_id",
    ),
    c("entity", Id, "what a finding is about: teacher"),
    c(
        "claim_ids",
        List,
        "the paid claims of the session's class, as in the class view",
    ),
];

const SIGNIN_COLUMNS: &[Column] = &[
    c("class_id", Id, "the class signed in to"),
    c("person_id", Id, "the trainee"),
    c("ts", DateTime, "when the trainee signed in"),
    c(
        "device_id",
        Id,
        "the device, one that signed in two or more trainees",
    ),
    c("method", Code, "face, fingerprint, card, qr or manual"),
    c(
        "face_score",
        Number,
        "the face-match score, 0..1 (method face)",
    ),
    c("institution_id", Id, "the class's institution"),
    c(
        "party_training_institution",
        Id,
        "answers for training_institution: institution_id",
    ),
    c("entity", Id, "what a finding is about: device_id"),
    c(
        "claim_ids",
        List,
        "empty: a flagged row's claims are found from (class_id, person_id)",
    ),
];

const FUNDS_COLUMNS: &[Column] = &[
    c("enterprise_id", Id, "the enterprise"),
    c("year", Number, "the year"),
    c("payroll", Money, "the payroll"),
    c("extracted", Money, "the 职工教育经费 extracted (提取)"),
    c("used_total", Money, "the funds used"),
    c(
        "used_frontline",
        Money,
        "the funds used on frontline workers' training",
    ),
    c(
        "frontline_share",
        Share,
        "used_frontline over used_total (null: used_total not above 0)",
    ),
    c("institution_id", Id, "the enterprise (enterprise_id)"),
    c(
        "party_enterprise",
        Id,
        "answers for enterprise: enterprise_id",
    ),
    c("entity", Id, "what a finding is about: enterprise_id"),
    c(
        "claim_ids",
        List,
        "empty: a finding on an enterprise's funds names no claims",
    ),
];

/// Every view, in the order they are listed.
pub const VIEWS: &[ViewDecl] = &[
    ViewDecl {
        name: "claim",
        grain: "claim",
        date_column: Some("claimed_on"),
        tables: &[
            Claims,
            Persons,
            Institutions,
            Classes,
            Sessions,
            Enrollments,
            Attendance,
            Evaluations,
            Occupations,
            PersonStatus,
            SubsidyStandards,
        ],
        keyed_by_enrolment: false,
        doc: "the claim with its person, class, institution, occupation version, evaluation, the verified 学时 of its enrolment, the person's statuses and the entitlement (clause 17)",
        columns: CLAIM_COLUMNS,
    },
    ViewDecl {
        name: "person",
        grain: "person",
        date_column: None,
        tables: &[Persons],
        keyed_by_enrolment: false,
        doc: "the person with the checks of the resident ID (GB 11643)",
        columns: PERSON_COLUMNS,
    },
    ViewDecl {
        name: "institution",
        grain: "institution",
        date_column: None,
        tables: &[Institutions],
        keyed_by_enrolment: false,
        doc: "the institution with the checks of the credit code (GB 32100)",
        columns: INSTITUTION_COLUMNS,
    },
    ViewDecl {
        name: "class",
        grain: "class",
        date_column: Some("start_date"),
        tables: &[Classes, Institutions, Enrollments, Attendance, Claims],
        keyed_by_enrolment: false,
        doc: "the class with its institution, its busiest sign-in day and its paid claims",
        columns: CLASS_COLUMNS,
    },
    ViewDecl {
        name: "evaluation",
        grain: "candidate in a sitting",
        date_column: Some("starts_at"),
        tables: &[Evaluations, Claims],
        keyed_by_enrolment: false,
        doc: "the evaluation row with its panel size (examiners) and the candidate's paid claims",
        columns: EVALUATION_COLUMNS,
    },
    ViewDecl {
        name: "presence",
        grain: "trainee, class and day",
        date_column: Some("day"),
        tables: &[Attendance, Sessions, Enrollments, Classes],
        keyed_by_enrolment: true,
        doc: "first sign-in, last sign-out and the credited presence envelope of trainees enrolled in two or more classes",
        columns: PRESENCE_COLUMNS,
    },
    ViewDecl {
        name: "teaching",
        grain: "session",
        date_column: Some("starts_at"),
        tables: &[Sessions, Classes, Claims],
        keyed_by_enrolment: false,
        doc: "the timetabled session with its class's venue, teacher and institution",
        columns: TEACHING_COLUMNS,
    },
    ViewDecl {
        name: "signin",
        grain: "sign-in event",
        date_column: Some("ts"),
        tables: &[Attendance, Classes],
        keyed_by_enrolment: true,
        doc: "sign-ins (direction in) on devices that signed in two or more trainees",
        columns: SIGNIN_COLUMNS,
    },
    ViewDecl {
        name: "enterprise_funds",
        grain: "enterprise and year",
        date_column: None,
        tables: &[EnterpriseFunds],
        keyed_by_enrolment: false,
        doc: "an enterprise's training funds for a year and its frontline share",
        columns: FUNDS_COLUMNS,
    },
];

/// The declaration of the view named `name`.
pub fn view(name: &str) -> Option<&'static ViewDecl> {
    VIEWS.iter().find(|v| v.name == name)
}

/// The view names, in order.
pub fn names() -> impl Iterator<Item = &'static str> {
    VIEWS.iter().map(|v| v.name)
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;

    /// The column types of every view, built over empty frames.
    fn schemas() -> BTreeMap<String, BTreeMap<String, Ty>> {
        crate::view_schemas().expect("schemas").clone()
    }

    #[test]
    fn names_are_unique_and_date_columns_exist_in_the_built_views() {
        let mut seen = BTreeSet::new();
        assert!(VIEWS.iter().all(|v| seen.insert(v.name)));
        let schemas = schemas();
        // every declared view is built, and nothing else
        assert_eq!(schemas.keys().map(String::as_str).collect::<Vec<_>>(), {
            let mut n: Vec<&str> = names().collect();
            n.sort_unstable();
            n
        });
        for v in VIEWS {
            let cols = &schemas[v.name];
            if let Some(d) = v.date_column {
                assert!(cols.contains_key(d), "{}: no date column {d}", v.name);
            }
            if v.keyed_by_enrolment {
                assert!(
                    cols.contains_key("class_id") && cols.contains_key("person_id"),
                    "{}: keyed by enrolment without class_id and person_id",
                    v.name
                );
            }
        }
    }

    #[test]
    fn declared_columns_are_the_built_columns_and_kinds_agree_with_types() {
        let schemas = schemas();
        let mut problems = Vec::new();
        for v in VIEWS {
            let built = &schemas[v.name];
            let mut declared = BTreeSet::new();
            for c in v.columns {
                if !declared.insert(c.name) {
                    problems.push(format!("{}: {} declared twice", v.name, c.name));
                }
                if c.doc.trim().is_empty() || c.doc.contains(['\n', '|']) {
                    problems.push(format!(
                        "{}.{}: the doc must be one non-empty line without `|`",
                        v.name, c.name
                    ));
                }
                if let Some(&ty) = built.get(c.name)
                    && !c.kind.admits(ty)
                {
                    problems.push(format!(
                        "{}.{}: declared {}, built {ty:?}",
                        v.name,
                        c.name,
                        c.kind.as_str()
                    ));
                }
            }
            let missing: Vec<&str> = built
                .keys()
                .map(String::as_str)
                .filter(|n| !declared.contains(n))
                .collect();
            let extra: Vec<&str> = declared
                .iter()
                .copied()
                .filter(|n| !built.contains_key(*n))
                .collect();
            if !missing.is_empty() {
                problems.push(format!(
                    "{}: built but not declared: {}",
                    v.name,
                    missing.join(", ")
                ));
            }
            if !extra.is_empty() {
                problems.push(format!(
                    "{}: declared but not built: {}",
                    v.name,
                    extra.join(", ")
                ));
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}
