DROP TABLE messages;
DROP TABLE introductions;
