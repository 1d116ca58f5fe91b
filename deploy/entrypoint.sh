#!/bin/sh
# Container entrypoint. `web` and `worker` migrate the database, then become the server;
# anything else runs as given, e.g. `python manage.py create_tenant acme`.
set -eu

migrate() {
    # Replicas start together: a PostgreSQL advisory lock makes them migrate one at a
    # time (the later ones find nothing to do) instead of racing on the same tables.
    python - <<'PY'
import django

django.setup()
from django.core.management import call_command
from django.db import connection

with connection.cursor() as cursor:
    if connection.vendor == "postgresql":
        cursor.execute("SELECT pg_advisory_lock(hashtext('agenthost migrate'))")
    call_command("migrate", interactive=False)
PY
}

case "${1:-web}" in
    web)
        migrate
        python manage.py collectstatic --noinput --verbosity 0
        exec daphne --bind 0.0.0.0 --port "${PORT:-8000}" --proxy-headers \
            agenthost.asgi:application
        ;;
    worker)
        migrate
        exec celery -A agenthost worker --pool threads \
            --concurrency "${WORKER_CONCURRENCY:-8}" --loglevel "${LOG_LEVEL:-INFO}"
        ;;
    *)
        exec "$@"
        ;;
esac
