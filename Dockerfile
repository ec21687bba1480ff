# syntax=docker/dockerfile:1
# One image for every flyte-cpp service; the command picks the binary:
#   docker run flyte-cpp runs-service --config /etc/flyte/runs-service.yaml
#   (queue-service, executor, flyte-manager likewise). See docs/deploy.md.
#
# Stage 1 builds with the Debian packages scripts/bootstrap.sh installs for building (tests/e2e/compose_validate.sh
# checks that every package named here is in bootstrap.sh) and the pinned flyteidl2 in a venv, which the build
# reads the wire contract from. Stage 2 holds the four binaries and only the shared libraries they link.

ARG DEBIAN_IMAGE=debian:bookworm-slim

FROM ${DEBIAN_IMAGE} AS build
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update -q && apt-get install -y -q --no-install-recommends \
      build-essential cmake ninja-build ccache pkg-config git curl ca-certificates python3 python3-venv \
      libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler \
      libpqxx-dev libsqlitecpp-dev libsqlite3-dev libcpprest-dev nlohmann-json3-dev libyaml-cpp-dev \
      libfmt-dev catch2 prometheus-cpp-dev libboost-dev libboost-system-dev zlib1g-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY scripts/versions.env scripts/versions.env
RUN . scripts/versions.env \
    && python3 -m venv /src/.venv \
    && /src/.venv/bin/pip install -q --no-cache-dir "flyteidl2==${FLYTEIDL2_VERSION}"
COPY CMakeLists.txt ./
COPY cmake cmake
COPY proto proto
COPY libs libs
COPY services services
COPY tools tools
# Compiles through ccache kept in a build cache mount, so a rebuild after a source change recompiles only what
# changed. Keys are relative to /src (CCACHE_BASEDIR), the build type is the project's default and LANG (which
# ccache hashes) is C.UTF-8, so a cache filled by scripts/build.sh on a bookworm host with the same sources and
# LANG hits too (CCACHE_DIR=<that cache mounted into the build>, as tests/e2e/compose_up.sh does).
ARG JOBS=4
ARG CMAKE_BUILD_TYPE=RelWithDebInfo
ARG CCACHE_DIR=/var/cache/ccache
ENV CCACHE_BASEDIR=/src CCACHE_NOHASHDIR=1 LANG=C.UTF-8
RUN --mount=type=cache,target=/var/cache/ccache \
    CCACHE_DIR="${CCACHE_DIR}" cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE}" \
      -DFLYTE_BUILD_TESTS=OFF -DFLYTE_PYTHON=/src/.venv/bin/python \
    && CCACHE_DIR="${CCACHE_DIR}" cmake --build build -j "${JOBS}" \
      --target runs-service queue-service executor flyte-manager \
    && CCACHE_DIR="${CCACHE_DIR}" ccache --show-stats \
    && strip build/bin/runs-service build/bin/queue-service build/bin/executor build/bin/flyte-manager

FROM ${DEBIAN_IMAGE} AS runtime
ENV DEBIAN_FRONTEND=noninteractive
# Shared libraries of the four binaries (ldd), curl for container health checks, python3 for the tasks the
# executor starts (install the flyte SDK on top, or set INSTALL_FLYTE_SDK=true).
RUN apt-get update -q && apt-get install -y -q --no-install-recommends \
      libabsl20220623 libc-ares2 libfmt9 libgrpc++1.51 libgrpc29 libprotobuf32 libre2-9 \
      libpq5 libpqxx-6.4 libsqlite3-0 libyaml-cpp0.7 libprometheus-cpp-core1.0 libssl3 libcpprest2.10 \
      ca-certificates curl python3 python3-venv tini \
    && rm -rf /var/lib/apt/lists/*
ARG INSTALL_FLYTE_SDK=false
COPY scripts/versions.env /opt/flyte/versions.env
RUN if [ "${INSTALL_FLYTE_SDK}" = "true" ]; then \
      . /opt/flyte/versions.env && python3 -m venv /opt/flyte/venv \
      && /opt/flyte/venv/bin/pip install -q --no-cache-dir "flyte==${FLYTE_SDK_VERSION}"; \
    fi
COPY --from=build /src/build/bin/runs-service /src/build/bin/queue-service /src/build/bin/executor \
     /src/build/bin/flyte-manager /usr/local/bin/
COPY deploy/config /etc/flyte
# Named volumes mounted here start with this ownership, so the services can write without running as root.
# uid/gid 999 fixed: the Helm chart's securityContext (runAsUser/fsGroup) assumes it.
RUN groupadd --system --gid 999 flyte \
    && useradd --system --uid 999 --gid 999 --create-home --home-dir /var/lib/flyte flyte \
    && mkdir -p /var/lib/flyte/data /var/lib/flyte/shared && chown -R flyte:flyte /var/lib/flyte
USER flyte
WORKDIR /var/lib/flyte
EXPOSE 8090 8089 8081
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["flyte-manager", "--config", "/etc/flyte/flyte-manager.yaml"]
