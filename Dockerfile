# kpibot container image: `kpibot serve` as a non-root user, dependencies installed from requirements.lock
# (exact versions, hash-checked). Build: docker build -t kpibot:0.2.0 .   Run: see docker-compose.yml.
ARG PYTHON_VERSION=3.12

# --- build: a virtual environment with the locked dependencies and kpibot itself ---------------------------
FROM python:${PYTHON_VERSION}-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/kpibot
COPY requirements.lock ./
RUN /opt/kpibot/bin/pip install --require-hashes --no-deps -r requirements.lock
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
COPY jobs ./jobs
COPY storage ./storage
RUN /opt/kpibot/bin/pip install --no-deps . \
    && /opt/kpibot/bin/kpibot --version

# --- runtime: slim Python, time zones, the virtual environment, an unprivileged user -----------------------
FROM python:${PYTHON_VERSION}-slim-bookworm
# tzdata: KPIBOT_TIMEZONE and digest schedules use IANA zones. The CJK chart font (Noto Sans CJK SC) is the
# noto-cjk-sans-otc wheel from the lock file (jobs/charts/fonts.py loads it), so no font package is needed.
# tzdata is left unpinned on purpose: zone rules change several times a year and Debian drops old builds.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --create-home --home-dir /home/kpibot kpibot \
    && mkdir -p /app \
    && chown kpibot:kpibot /app
COPY --from=build /opt/kpibot /opt/kpibot
ENV PATH=/opt/kpibot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    MPLCONFIGDIR=/tmp/matplotlib \
    KPIBOT_HOST=0.0.0.0 \
    KPIBOT_PORT=3000 \
    KPIBOT_LOG_FORMAT=json
WORKDIR /app
USER 10001:10001
# Fails the build if the shipped CJK font is not what the charts get.
RUN python -c "from jobs.charts.fonts import font_families; assert 'Noto Sans CJK SC' in font_families()"
EXPOSE 3000
STOPSIGNAL SIGTERM
# /readyz: database answers, schema current, platform connections up (503 otherwise, which fails this).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('KPIBOT_PORT', '3000') + '/readyz', timeout=4)"]
ENTRYPOINT ["kpibot"]
CMD ["serve"]
