-- Privileges of the service role on the governance database (PostgreSQL).
-- Run as the owner role after the owner has opened the database once (which applies the
-- migrations), e.g.  psql "postgresql://governance_owner@db/governance" -f deploy/grants.sql
-- The service role reads everything, appends to the audit trail and works the approval
-- tables. It cannot UPDATE, DELETE or TRUNCATE audit rows, and, owning nothing, it cannot
-- ALTER or DROP a table or a trigger: the append-only guard is out of its reach.
-- `governance audit prune` (the one sanctioned delete) runs with the owner's URL.
GRANT USAGE ON SCHEMA public TO governance_service;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO governance_service;
GRANT INSERT ON audit TO governance_service;
GRANT INSERT, UPDATE, DELETE ON
    approval_requests, approval_votes, grants, deadlines, break_glass, alert_state,
    slack_messages, mfa_secrets, mfa_used_codes, mfa_failures, apscheduler_jobs,
    stream_cursors, remote_hosts, remote_events
    TO governance_service;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO governance_service;
