DROP TABLE outcome_questions;
DROP TABLE suggestion_outcomes;
