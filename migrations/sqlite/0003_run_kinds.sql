-- What each run was made for (plain, ab round, demo) and whether it failed as a run (the
-- target never answered, or no iteration completed), as columns, so "the newest N runs
-- that can serve as a baseline" is one indexed query instead of a filter over labels.
ALTER TABLE runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'plain';
ALTER TABLE runs ADD COLUMN failed BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE runs SET kind = 'ab' WHERE labels LIKE '%"ab.session":%';
UPDATE runs SET kind = 'demo' WHERE kind = 'plain' AND labels LIKE '%"source":"demo"%';
UPDATE runs SET failed = TRUE
 WHERE NOT EXISTS (SELECT 1 FROM steps s WHERE s.run_id = runs.id AND NOT s.is_workflow AND s.ok > 0)
    OR EXISTS (SELECT 1 FROM steps s WHERE s.run_id = runs.id AND s.is_workflow AND s.count > 0 AND s.ok = 0);
CREATE INDEX runs_baselines ON runs (scenario, branch, started_ms DESC, id DESC) WHERE complete AND NOT failed AND kind = 'plain';
