# syntax=docker/dockerfile:1.7
# capplan: multi-stage build from uv.lock; the runtime image has no build tools and runs as a
# numeric non-root user. Configuration is by environment only (see README "Configuration").
FROM python:3.11-slim-bookworm AS build
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /uvx /bin/
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=0
WORKDIR /app
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    uv sync --locked --no-install-project --no-dev
COPY pyproject.toml uv.lock README.md ./
COPY service ./service
COPY migrations ./migrations
COPY catalog ./catalog
RUN --mount=type=cache,target=/root/.cache/uv uv sync --locked --no-dev

FROM python:3.11-slim-bookworm
RUN groupadd --system --gid 10001 capplan \
    && useradd --system --uid 10001 --gid capplan --no-create-home capplan \
    && mkdir -p /data && chown 10001:10001 /data
COPY --from=build --chown=10001:10001 /app /app
ENV PATH="/app/.venv/bin:$PATH" \
    PYTHONUNBUFFERED=1 \
    DATABASE_URL=sqlite+aiosqlite:////data/capplan.db \
    CAPPLAN_CATALOG_DIR=/app/catalog
WORKDIR /app
USER 10001
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2).status != 200)"]
CMD ["capplan", "serve", "--host", "0.0.0.0", "--port", "8000"]
