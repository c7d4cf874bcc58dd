-- A call the import leaves out (outside the creative industries: its programme, or nothing of the cluster's trades
-- and themes in its text) is kept with why, and hidden from matching and from the default project list. Staff can
-- let one in: later imports then never leave it out again.
ALTER TABLE projects ADD COLUMN left_out TEXT;
ALTER TABLE projects ADD COLUMN let_in BOOLEAN NOT NULL DEFAULT FALSE;
