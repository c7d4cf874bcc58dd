ALTER TABLE projects DROP COLUMN let_in;
ALTER TABLE projects DROP COLUMN left_out;
