-- Change points `rehearse watch` has announced, so each is announced once: keyed by the
-- series (scenario, branch, step, metric) and the first run at the new level.
CREATE TABLE change_points (
    scenario     TEXT NOT NULL,
    branch       TEXT NOT NULL,
    step         TEXT NOT NULL,
    metric       TEXT NOT NULL,
    run_id       TEXT NOT NULL,
    worse        BOOLEAN NOT NULL,
    effect       DOUBLE PRECISION NOT NULL,
    announced_ms BIGINT NOT NULL,
    PRIMARY KEY (scenario, branch, step, metric, run_id)
);
