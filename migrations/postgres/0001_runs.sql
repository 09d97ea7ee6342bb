-- Runs and their steps. Summary percentiles are columns so history queries never decode
-- histograms; the results document (histograms stripped) keeps everything else. The run
-- indexes end in (started_ms DESC, id DESC), the order every listing uses, so "the newest
-- N" stops after N rows.
CREATE TABLE runs (
    id               TEXT PRIMARY KEY,
    scenario         TEXT NOT NULL,
    scenario_hash    TEXT,
    target           TEXT,
    branch           TEXT,
    commit_sha       TEXT,
    dirty            BOOLEAN,
    harness_version  TEXT,
    host_fingerprint TEXT,
    started_ms       BIGINT NOT NULL,
    ended_ms         BIGINT,
    measured_seconds DOUBLE PRECISION,
    complete         BOOLEAN NOT NULL,
    labels           TEXT NOT NULL,
    document         TEXT NOT NULL,
    interval_log     BYTEA,
    stored_ms        BIGINT NOT NULL
);
CREATE INDEX runs_by_series ON runs (scenario, branch, started_ms DESC, id DESC);
CREATE INDEX runs_by_scenario ON runs (scenario, started_ms DESC, id DESC);
CREATE INDEX runs_by_time ON runs (started_ms DESC, id DESC);

CREATE TABLE steps (
    run_id            TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    position          BIGINT NOT NULL,
    name              TEXT NOT NULL,
    is_workflow       BOOLEAN NOT NULL,
    count             BIGINT NOT NULL,
    ok                BIGINT NOT NULL,
    errors            BIGINT NOT NULL,
    error_rate        DOUBLE PRECISION NOT NULL,
    throughput        DOUBLE PRECISION NOT NULL,
    min               BIGINT NOT NULL,
    mean              DOUBLE PRECISION NOT NULL,
    p50               BIGINT NOT NULL,
    p90               BIGINT NOT NULL,
    p95               BIGINT NOT NULL,
    p99               BIGINT NOT NULL,
    p999              BIGINT NOT NULL,
    max               BIGINT NOT NULL,
    service_p50       BIGINT NOT NULL,
    service_p99       BIGINT NOT NULL,
    histogram         TEXT NOT NULL,
    service_histogram TEXT,
    PRIMARY KEY (run_id, position)
);
CREATE INDEX steps_by_name ON steps (name, run_id);
