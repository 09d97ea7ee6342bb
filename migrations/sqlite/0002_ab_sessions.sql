-- Interleaved A/B sessions. Their runs are ordinary runs (labelled ab.session); this keeps
-- the per-round log ratios, so later sessions can learn the environment's noise from earlier
-- A/A sessions of the same scenario.
CREATE TABLE ab_sessions (
    id               TEXT PRIMARY KEY,
    scenario         TEXT NOT NULL,
    started_ms       BIGINT NOT NULL,
    same_target      BOOLEAN NOT NULL,
    rounds           BIGINT NOT NULL,
    baseline_label   TEXT NOT NULL,
    candidate_label  TEXT NOT NULL,
    host_fingerprint TEXT,
    log_ratios       TEXT NOT NULL,
    comparison       TEXT NOT NULL
);
CREATE INDEX ab_sessions_by_scenario ON ab_sessions (scenario, same_target, started_ms DESC);
