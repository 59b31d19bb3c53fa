-- Run once by the postgres image, when its data volume is empty
-- (/docker-entrypoint-initdb.d). One database per service, all owned by the
-- application role; each service's migrations create its tables there.
-- The password is for this single-host compose setup only.
CREATE ROLE bridgework WITH LOGIN PASSWORD 'bridgework';

CREATE DATABASE bridgework_identity OWNER bridgework;
CREATE DATABASE bridgework_referrals OWNER bridgework;
CREATE DATABASE bridgework_files OWNER bridgework;
CREATE DATABASE bridgework_cases OWNER bridgework;
CREATE DATABASE bridgework_notifications OWNER bridgework;
