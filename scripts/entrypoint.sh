#!/bin/sh
# The container's entrypoint. Before the app starts: a random login cookie key (in the data volume,
# via .streamlit/secrets.toml) and the first owner account when there is none; the owner's random
# password is printed once, in this container's log. Then:
#   app     (default) the pages, webhooks, health check and, with the embedded DuckDB file or
#           SYNC_INTERVAL_MINUTES > 0, the scheduled syncs and the live demo feed, in one process
#   worker  webhooks and scheduled syncs in a process of their own (PostgreSQL only)
#   demo    build the demo store when the warehouse has none, then serve the app
#   anything else is run as given (python -m auth add alice, python -m connectors sync, ...)
set -eu

command="${1:-app}"
[ "$#" -gt 0 ] && shift
case "$command" in
    demo)
        python -m auth setup
        python -m connectors demo --if-empty --orders "${DEMO_ORDERS:-30000}"
        exec python -m streamlit run server.py --server.port "${PORT:-8501}" --server.address 0.0.0.0 \
            --server.headless true "$@"
        ;;
    app)
        python -m auth setup
        exec python -m streamlit run server.py --server.port "${PORT:-8501}" --server.address 0.0.0.0 \
            --server.headless true "$@"
        ;;
    worker)
        exec python -m connectors worker --host 0.0.0.0 --port "${WORKER_PORT:-8502}" "$@"
        ;;
    *)
        exec "$command" "$@"
        ;;
esac
