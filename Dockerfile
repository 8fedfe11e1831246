# Neuroclinic: one image for the web server and the workers (compose.yaml, docs/deploy.md).
# Debian 12 (bookworm): its postgresql-client (15) matches the postgres:15 service, so
# pg_dump can back the database up.

FROM node:22-bookworm-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --omit=dev

FROM python:3.13-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/venv/bin:$PATH \
    NEUROCLINIC_VAR_DIR=/var/lib/neuroclinic \
    DEBUG=False
# pango and a font for WeasyPrint (PDFs); pg_dump/pg_restore for backups; tini as PID 1.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b fontconfig fonts-dejavu-core \
        postgresql-client tini \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home-dir /var/lib/neuroclinic --shell /usr/sbin/nologin neuroclinic \
    && install -d -o neuroclinic -g neuroclinic -m 0700 /var/lib/neuroclinic /backups
WORKDIR /app
COPY requirements.lock ./
RUN python -m venv /venv && pip install --require-hashes -r requirements.lock
COPY pyproject.toml README.md manage.py ./
COPY neuroclinic ./neuroclinic
COPY templates ./templates
COPY static ./static
COPY --from=assets /build/node_modules ./node_modules
RUN pip install --no-deps -e . && python -m compileall -q neuroclinic
# Collect and compress static files once, here, so the first start need not (it takes minutes).
ENV STATIC_ROOT=/app/staticfiles
RUN SECRET_KEY=image-build-only-not-a-secret-0123456789-abcdefghijklmnop \
    PUBLIC_BASE_URL=http://image-build.invalid \
    NEUROCLINIC_VAR_DIR=/tmp/build-var neuroclinic serve --static-only && rm -rf /tmp/build-var
USER neuroclinic
VOLUME ["/var/lib/neuroclinic"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
ENTRYPOINT ["tini", "--"]
CMD ["neuroclinic", "serve", "--bind", "0.0.0.0:8000"]
