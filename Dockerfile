# Storefront Analytics: the app and its background work in one container.
#   docker build -t storefront-analytics .
#   docker run -p 8501:8501 -v storefront-data:/data storefront-analytics
# The first start prints the owner's random password once (docker logs).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Debian's Chromium (PNG export through kaleido) and fonts: the same script CI runs.
COPY scripts/install-system.sh scripts/install-system.sh
RUN INSTALL_SYSTEM_CLEAN=1 bash scripts/install-system.sh

# The app's packages only (no test runner, browser driver or linter), each pinned with its hashes.
COPY requirements.lock .
RUN pip install --require-hashes --no-deps -r requirements.lock

COPY . .

# A user without privileges owns only the data volume. Everything the app writes lives there:
# the embedded warehouse, the users file, and secrets.toml (the cookie key written on first start).
RUN useradd --system --uid 10001 --user-group --home-dir /data --no-create-home app \
    && mkdir -p /data \
    && chown app:app /data \
    && rm -f .streamlit/secrets.toml .streamlit/credentials.yaml \
    && ln -s /data/secrets.toml .streamlit/secrets.toml
ENV DATABASE_URL=duckdb:////data/warehouse.duckdb \
    AUTH_CREDENTIALS_FILE=/data/credentials.yaml \
    PORT=8501
VOLUME ["/data"]
USER app

EXPOSE 8501
# Ready, not just up: the warehouse answers, its schema is current, someone can log in (/health/ready).
HEALTHCHECK --interval=30s --timeout=7s --start-period=60s --retries=3 \
    CMD ["python", "scripts/healthcheck.py", "app"]

ENTRYPOINT ["/app/scripts/entrypoint.sh"]
CMD ["app"]
