# The mock as a container: the wheel built from this checkout, served by a non-root user on 0.0.0.0, port PORT (8000).
#   docker build -t conversations-mock . && docker run -p 8000:8000 conversations-mock
# Run N of them behind a load balancer with a shared Redis: compose.yaml, deploy/k8s/ (README: Running N replicas).
FROM python:3.11-slim AS build
# A C compiler for the page builder's C helpers (app/data/_speedups.c), in this stage only: the wheel carries
# them compiled. Debian's current gcc is what the wheel is meant to be built with, so it is not pinned.
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app app
COPY schemas schemas
COPY fixtures fixtures
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 mock
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER 10001
WORKDIR /home/mock
EXPOSE 8000
# Binding to 0.0.0.0 reaches other machines, so the control API (/__mock) takes a token: the one given in
# MOCK_ADMIN_TOKEN (from a secret), or else one made at start and printed in the log.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % (os.environ.get('PORT') or 8000), timeout=2)"]
ENTRYPOINT ["conversations-mock"]
# No --port: a flag would beat PORT, which platforms such as Cloud Run set; without it PORT decides (8000 when unset),
# and MOCK_WORKERS the workers (by default the CPUs the container may use: its CPU limit, not the host's count).
CMD ["serve", "--host", "0.0.0.0"]
