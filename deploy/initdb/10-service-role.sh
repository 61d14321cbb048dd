#!/bin/sh
# Run once by the postgres image on an empty data dir: the role the replicas log in as. It owns
# nothing; deploy/grants.sql (the `grants` service) gives it its rights after the migrations.
set -eu
psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" <<SQL
CREATE ROLE governance_service LOGIN PASSWORD '${GOVERNANCE_SERVICE_PASSWORD}';
REVOKE ALL ON DATABASE governance FROM PUBLIC;
GRANT CONNECT ON DATABASE governance TO governance_service;
SQL
