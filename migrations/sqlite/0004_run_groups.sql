-- Run groups: a suite run (every scenario of a suite, possibly split across CI jobs) or a
-- sharded run (one scenario's load split across machines). A group is made of `parts` (the
-- CI jobs or load shards), each of which registers, runs and reports done or failed; member
-- runs carry the group's id, so one query finds what a group holds and what it lacks.
CREATE TABLE run_groups (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    name        TEXT NOT NULL,
    branch      TEXT,
    commit_sha  TEXT,
    parts       BIGINT NOT NULL,
    created_ms  BIGINT NOT NULL,
    start_at_ms BIGINT,
    document    TEXT NOT NULL
);
CREATE INDEX run_groups_by_series ON run_groups (kind, name, branch, created_ms DESC, id DESC);
CREATE INDEX run_groups_by_time ON run_groups (kind, created_ms DESC, id DESC);

CREATE TABLE run_group_parts (
    group_id      TEXT NOT NULL REFERENCES run_groups (id) ON DELETE CASCADE,
    part          BIGINT NOT NULL,
    state         TEXT NOT NULL,
    host          TEXT,
    registered_ms BIGINT NOT NULL,
    finished_ms   BIGINT,
    detail        TEXT,
    PRIMARY KEY (group_id, part)
);

ALTER TABLE runs ADD COLUMN group_id TEXT;
ALTER TABLE runs ADD COLUMN group_part BIGINT;
CREATE INDEX runs_by_group ON runs (group_id, group_part);
