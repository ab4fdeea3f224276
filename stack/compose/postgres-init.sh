#!/usr/bin/env bash
# Creates the two databases of the dagstorm stack on first start of an empty data
# directory (the postgres image runs /docker-entrypoint-initdb.d/*.sh once, as the
# superuser, against a server listening only on its Unix socket).
#
#   airflow     owned by role airflow  (Airflow metadata; reached via toxiproxy airflow-db)
#   ad_serving  owned by role serving  (the reference pipeline's serving tables; via serving-db)
#
# Passwords come from the environment (docker-compose.yml passes them from .env);
# nothing secret is written here. psql's :'var' / :"var" quote values and names.
set -euo pipefail

: "${AIRFLOW_DB_PASSWORD:?AIRFLOW_DB_PASSWORD must be set}"
: "${SERVING_DB_PASSWORD:?SERVING_DB_PASSWORD must be set}"
AIRFLOW_DB_USER="${AIRFLOW_DB_USER:-airflow}"
AIRFLOW_DB_NAME="${AIRFLOW_DB_NAME:-airflow}"
SERVING_DB_USER="${SERVING_DB_USER:-serving}"
SERVING_DB_NAME="${SERVING_DB_NAME:-ad_serving}"

create_role_and_db() {
    local role="$1" password="$2" db="$3"
    psql -v ON_ERROR_STOP=1 --no-psqlrc \
        --username "${POSTGRES_USER:-postgres}" --dbname postgres \
        -v role="$role" -v password="$password" -v db="$db" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
CREATE DATABASE :"db" OWNER :"role" ENCODING 'UTF8';
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
SQL
    echo "postgres-init: role ${role} and database ${db} created"
}

create_role_and_db "$AIRFLOW_DB_USER" "$AIRFLOW_DB_PASSWORD" "$AIRFLOW_DB_NAME"
create_role_and_db "$SERVING_DB_USER" "$SERVING_DB_PASSWORD" "$SERVING_DB_NAME"
