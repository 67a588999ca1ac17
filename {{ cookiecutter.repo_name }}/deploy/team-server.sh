#!/usr/bin/env bash
# Start the team's MLflow server: accounts and permissions (basic-auth), runs and models in a
# database, artifacts stored and served by the server (clients hold no storage credentials).
# See docs/model-management.md#the-teams-server. Needs the project's `team` extra:
#   uv sync --extra team
#
# Required in the environment (never in a file of the repository):
#   MLFLOW_AUTH_ADMIN_PASSWORD      the admin's first password (12 characters or more); read
#                                   only when the user store is created, then ignored
#   MLFLOW_FLASK_SERVER_SECRET_KEY  a random secret, the same on every server of the team
# Optional:
#   MLFLOW_SERVER_DIR               where the server keeps its files (default: ./team-server)
#   MLFLOW_BACKEND_STORE_URI        runs and models: postgresql://user:password@host:5432/mlflow
#                                   for a team (default: SQLite in MLFLOW_SERVER_DIR, one host)
#   MLFLOW_AUTH_DATABASE_URI        users and permissions: postgresql://.../mlflow_auth, its own
#                                   database (default: SQLite in MLFLOW_SERVER_DIR)
#   MLFLOW_ARTIFACTS_DESTINATION    artifacts (default: MLFLOW_SERVER_DIR/artifacts; or s3://...)
#   MLFLOW_AUTH_ADMIN_USERNAME      default: admin
#   HOST, PORT                      default: 127.0.0.1, 5000 (0.0.0.0 to serve the network,
#                                   then also --allowed-hosts, see `mlflow server --help`)
# Extra arguments go to `mlflow server` (e.g. --workers 2). On a real host: the systemd unit
# deploy/mlflow-team.service and its environment file, deploy/team-server.env.example.
set -euo pipefail

: "${MLFLOW_AUTH_ADMIN_PASSWORD:?set the admin password for the first start (12+ characters)}"
: "${MLFLOW_FLASK_SERVER_SECRET_KEY:?set a random secret, e.g. python -c 'import secrets; print(secrets.token_hex(32))'}"

for name in MLFLOW_AUTH_ADMIN_PASSWORD MLFLOW_FLASK_SERVER_SECRET_KEY MLFLOW_BACKEND_STORE_URI \
    MLFLOW_AUTH_DATABASE_URI MLFLOW_ARTIFACTS_DESTINATION; do
    case "${!name:-}" in *"<fill in"*)
        echo "$name still holds a placeholder ('<fill in: ...>'): set its real value" >&2
        exit 2 ;;
    esac
done

here="$(cd "$(dirname "$0")/.." && pwd)"
dir="$(mkdir -p "${MLFLOW_SERVER_DIR:-team-server}" && cd "${MLFLOW_SERVER_DIR:-team-server}" && pwd)"

auth_uri="${MLFLOW_AUTH_DATABASE_URI:-sqlite:///$dir/auth.db}"
# The auth app's settings. default_permission READ: every user may browse every experiment and
# model; recording runs needs EDIT, promoting needs MANAGE, both granted per experiment/model
# (deploy/team_access.py applies conf/base/team_access.yml).
# A verified password is remembered for 60 s (auth_cache_ttl_seconds): the password hash is
# slow by design, and a run makes a few hundred requests. The file holds the auth database's
# URI (with its password, if any): readable by the server's user only; `%` doubled for the ini
# parser.
rm -f "$dir/basic_auth.ini"
(
umask 077
cat > "$dir/basic_auth.ini" <<INI
[mlflow]
default_permission = READ
database_uri = ${auth_uri//%/%%}
admin_username = ${MLFLOW_AUTH_ADMIN_USERNAME:-admin}
authorization_function = mlflow.server.auth:authenticate_request_basic_auth
auth_cache_ttl_seconds = 60
INI
)
export MLFLOW_AUTH_CONFIG_PATH="$dir/basic_auth.ini"
# MLflow's background jobs serve GenAI features (trace scoring, archival) this project does not
# use: off, they cost eight processes less. Set it to true to have them.
export MLFLOW_SERVER_ENABLE_JOB_EXECUTION="${MLFLOW_SERVER_ENABLE_JOB_EXECUTION:-false}"

mlflow="$here/.venv/bin/mlflow"
[ -x "$mlflow" ] || mlflow="mlflow"
exec "$mlflow" server \
  --app-name basic-auth \
  --backend-store-uri "${MLFLOW_BACKEND_STORE_URI:-sqlite:///$dir/mlflow.db}" \
  --serve-artifacts \
  --artifacts-destination "${MLFLOW_ARTIFACTS_DESTINATION:-$dir/artifacts}" \
  --host "${HOST:-127.0.0.1}" \
  --port "${PORT:-5000}" \
  "$@"
