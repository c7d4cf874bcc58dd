DROP TABLE idempotency_keys;
DROP TABLE member_terms;
DROP TABLE member_scopes;
DROP TABLE member_sectors;
DROP TABLE members;
