DROP TABLE audit_log;
DROP TABLE client_members;
DROP TABLE clients;
DROP TABLE users;
