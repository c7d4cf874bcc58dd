-- The fields of an imported call that staff changed (space-separated API names): a later import of the call keeps
-- them and updates only the others.
ALTER TABLE projects ADD COLUMN edited_fields TEXT NOT NULL DEFAULT '';
