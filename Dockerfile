# syntax=docker/dockerfile:1.7
#
# PortTrack container image.
#
#   docker build -t porttrack:dev .
#   docker run --rm -v "$PWD/deploy/compose/porttrack.toml:/etc/porttrack/porttrack.toml:ro" \
#     porttrack:dev run --config /etc/porttrack/porttrack.toml
#
# Stages:
#   chef     toolchain + C build dependencies of librdkafka + cargo-chef
#   planner  reduces the workspace to a dependency recipe (manifests + lock)
#   builder  builds the dependencies from the recipe (a layer that only
#            changes when Cargo.toml/Cargo.lock do), then the workspace
#   runtime  debian slim, the binary, a non-root user; nothing else
#
# The runtime is read-only-root-filesystem friendly: the binary writes
# nothing but its logs (stdout), and the file sink (used only when Postgres or
# Elasticsearch is not configured) writes under the working directory
# /var/lib/porttrack, which is meant to be a mounted volume.
# Checked by deploy/validate (hadolint, checkov).

ARG RUST_VERSION=1.95.0
ARG DEBIAN_RELEASE=bookworm

FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS chef
ARG RUST_VERSION
# The image's toolchain is the one rust-toolchain.toml pins; naming it here
# stops rustup from downloading the clippy/rustfmt components that file lists
# (a release build needs neither).
ENV RUSTUP_TOOLCHAIN=${RUST_VERSION} \
    CARGO_TERM_COLOR=never \
    CARGO_INCREMENTAL=0
# rdkafka-sys builds the bundled librdkafka with its own configure/make
# (mklove): make and a C/C++ toolchain; the `ssl` feature links OpenSSL
# (openssl-sys: pkg-config + libssl-dev); libz-sys links the system zlib.
# Versions are not pinned: the base image pins the Debian release and these
# follow its security updates.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends g++ make pkg-config libssl-dev zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*
RUN cargo install cargo-chef --locked --version 0.1.77
WORKDIR /src

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
COPY --from=planner /src/recipe.json recipe.json
# Dependencies only: this layer is reused until the recipe changes.
RUN cargo chef cook --release --locked --package porttrack --bin porttrack --recipe-path recipe.json
COPY . .
RUN cargo build --release --locked --package porttrack --bin porttrack \
 && install -m 0755 target/release/porttrack /usr/local/bin/porttrack

FROM debian:${DEBIAN_RELEASE}-slim AS runtime
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="porttrack" \
      org.opencontainers.image.description="Streaming pipeline for port traffic: Kafka in; vessel state, positions and dead letters out." \
      org.opencontainers.image.source="https://github.com/porttrack/porttrack" \
      org.opencontainers.image.url="https://github.com/porttrack/porttrack" \
      org.opencontainers.image.documentation="https://github.com/porttrack/porttrack/blob/main/deploy/README.md" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.vendor="PortTrack" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"
# libssl3 for librdkafka's TLS, ca-certificates for Kafka/Elasticsearch TLS.
# zlib and glibc are part of the base image.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libssl3 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 porttrack \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/porttrack \
            --no-create-home --shell /usr/sbin/nologin porttrack \
 && install -d -o 10001 -g 10001 -m 0750 /var/lib/porttrack \
 && install -d -m 0755 /etc/porttrack
COPY --from=builder /usr/local/bin/porttrack /usr/local/bin/porttrack
COPY config/porttrack.example.toml /etc/porttrack/porttrack.example.toml
# The binary's default (127.0.0.1:9464) is unreachable from outside a
# container; listen on all interfaces. A config file's http.listen is
# overridden by this (environment wins); set the variable to change it.
ENV PORTTRACK_HTTP__LISTEN=0.0.0.0:9464
WORKDIR /var/lib/porttrack
USER 10001:10001
EXPOSE 9464
# porttrack handles SIGTERM itself (drains in-flight batches within
# pipeline.drain_timeout, commits, leaves the group) and starts no child
# processes, so it runs as PID 1 without an init.
STOPSIGNAL SIGTERM
# /healthz is liveness: it only says the poll loop makes progress, never that
# Kafka or a sink is up. `porttrack healthcheck` GETs it (default URL
# http://127.0.0.1:9464/healthz) and exits 0/1: no curl in the image.
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
  CMD ["porttrack", "healthcheck"]
ENTRYPOINT ["porttrack"]
CMD ["run"]
