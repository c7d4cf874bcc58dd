-- Who may apply to a project by size (space-separated member size names, e.g. `one_person` for a grant to
-- individual artists); empty: any size.
ALTER TABLE projects ADD COLUMN eligible_sizes TEXT NOT NULL DEFAULT '';
