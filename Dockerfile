# syntax=docker/dockerfile:1

# Cluster Matchmaker: build the release binary, then ship it in a slim Debian image.
#
#   docker build -t matchmaker .
#   docker run --rm -p 8080:8080 -v matchmaker-data:/app/data matchmaker
#
# Without DATABASE_URL the server keeps its data in SQLite at /app/data/matchmaker.db
# (mount a volume there); with DATABASE_URL=postgres://… it uses PostgreSQL instead
# (see docker-compose.yml). Pin the toolchain with --build-arg RUST_VERSION=1.90 (at least 1.88).

ARG RUST_VERSION=1

# ---- build -------------------------------------------------------------------------------
FROM rust:${RUST_VERSION}-bookworm AS build

# make and perl build the vendored OpenSSL and the bundled libpq; the C compiler
# (also used for the bundled SQLite and AWS-LC) comes with the rust image.
RUN apt-get update \
 && apt-get install -y --no-install-recommends make perl \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY . .

# The cache mounts keep downloaded crates between builds; the binary stays in the image layer.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    cargo build --release --locked \
 && test -x target/release/matchmaker

# ---- runtime -----------------------------------------------------------------------------
FROM debian:bookworm-slim AS runtime

# OpenSSL, libpq and SQLite are linked into the binary: only CA certificates are needed.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 matchmaker \
 && useradd --system --uid 10001 --gid matchmaker --home-dir /app --no-create-home \
      --shell /usr/sbin/nologin matchmaker

WORKDIR /app

COPY --from=build /src/target/release/matchmaker /usr/local/bin/matchmaker
COPY assets/ /app/assets/

# Default SQLite location (./data/matchmaker.db relative to /app), writable by the service user.
RUN mkdir -p /app/data && chown matchmaker:matchmaker /app/data

ENV MATCHMAKER_ADDR=0.0.0.0:8080

# The numeric id of the matchmaker user, so that runtimes can check it is not root (runAsNonRoot).
USER 10001:10001

EXPOSE 8080

# No HEALTHCHECK here: docker-compose.yml runs `matchmaker healthcheck`, which exits 0
# when GET http://127.0.0.1:8080/health/ready answers 200.
ENTRYPOINT ["matchmaker"]
CMD ["serve"]
