# syntax=docker/dockerfile:1
# One image for every `nexus` command: `docker run IMAGE serve`, `... subgraph macro --port 4001`,
# `... router --supergraph /app/supergraph.graphql --port 8000`, `... migrate`, `... replay`.

# -- build: a virtual environment with the project and its dependencies -----------------------
FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
WORKDIR /app
# The project is installed editable from /app: `nexus migrate` finds migrations/ beside nexus/.
COPY pyproject.toml README.md alembic.ini ./
COPY engines ./engines
COPY graph ./graph
COPY migrations ./migrations
COPY nexus ./nexus
COPY subgraphs ./subgraphs
RUN /opt/venv/bin/pip install --editable . \
 && /opt/venv/bin/python -m compileall -q /app \
 # The supergraph of the four subgraphs, for `nexus router` (URLs replaced by --subgraph-url).
 && /opt/venv/bin/nexus compose --output-dir /app

# -- runtime: the environment and the source, run as an unprivileged user ----------------------
FROM python:3.11-slim-bookworm AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    NEXUS_DATA_DIR=/var/lib/nexus
RUN groupadd --system --gid 10001 nexus \
 && useradd --system --uid 10001 --gid nexus --home-dir /app --shell /usr/sbin/nologin nexus \
 && mkdir -p /var/lib/nexus && chown nexus:nexus /var/lib/nexus
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
WORKDIR /app
USER 10001:10001
VOLUME ["/var/lib/nexus"]
EXPOSE 8000
# Health: GET /healthz (up) and /readyz (stores or subgraphs answer); compose and Kubernetes probe them.
ENTRYPOINT ["nexus"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
