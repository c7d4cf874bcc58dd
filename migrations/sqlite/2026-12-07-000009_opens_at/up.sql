-- When applications open: a call announced before it opens is forthcoming until then.
ALTER TABLE projects ADD COLUMN opens_at TIMESTAMP;
