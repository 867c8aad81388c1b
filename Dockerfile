# syntax=docker/dockerfile:1
# Container image of the wasmcron host.
#
#   docker build -t wasmcron/wasmcron:0.1.0 .
#   docker run --rm -p 8080:8080 -v "$PWD/plugins-dir:/plugins:ro" \
#     -e WASMCRON_DB=postgres://... -e WASMCRON_API_TOKEN=... wasmcron/wasmcron:0.1.0
#
# The runtime image is distroless (glibc, CA certificates, no shell) and runs as UID/GID 65532. It works with
# a read-only root filesystem as long as the cache directory (and, for SQLite, the database directory) are
# writable volumes, as the Helm chart in charts/wasmcron sets up.

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src
# .dockerignore lets in only what the build needs (manifests, lockfile, host/, tests/, wit/).
COPY . .
# The lockfile is authoritative (--locked); caches keep the registry and target dir between builds.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p wasmcron \
    && install -D -m 0755 target/release/wasmcron /out/usr/local/bin/wasmcron \
    && mkdir -p /out/plugins /out/var/cache/wasmcron /out/var/lib/wasmcron

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/usr/local/bin/wasmcron /usr/local/bin/wasmcron
# Default plugin, cache and data directories, owned by the non-root user.
COPY --from=build --chown=65532:65532 /out/plugins /plugins
COPY --from=build --chown=65532:65532 /out/var/cache/wasmcron /var/cache/wasmcron
COPY --from=build --chown=65532:65532 /out/var/lib/wasmcron /var/lib/wasmcron
ENV WASMCRON_LISTEN=0.0.0.0:8080 \
    WASMCRON_PLUGINS=/plugins \
    WASMCRON_CACHE_DIR=/var/cache/wasmcron
USER 65532:65532
# The host's default database, sqlite://wasmcron.db, is relative: it lands in this writable directory.
WORKDIR /var/lib/wasmcron
EXPOSE 8080
ENTRYPOINT ["wasmcron"]
CMD ["serve"]
