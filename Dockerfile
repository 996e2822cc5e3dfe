# syntax=docker/dockerfile:1
# check=error=true

# dockopt's own image: the App's static binary (dockopt-app, the entrypoint)
# and the command-line dockopt beside it, on distroless, running as nonroot.
#
# Base images are pinned as tag@sha256 so builds are reproducible while update
# bots keep following the tag. These digests were taken from public Dockerfiles
# that pin the same tags; they could not be checked against the registries from
# the machine this file was written on. Refresh them when updating:
#   crane digest golang:1.26-trixie
#   crane digest gcr.io/distroless/static-debian12:nonroot

# The builder runs on the build machine's platform and cross-compiles, which is
# cheap for a pure-Go binary and avoids emulating the target under QEMU.
#
# build cross-compiles the static dockopt-app and dockopt binaries.
FROM --platform=$BUILDPLATFORM golang:1.26-trixie@sha256:87ffdb09b6a2e29ff910748b745395e8a0299aa80b7c0551cdca9b55e3fd2b3e AS build
WORKDIR /src
ARG TARGETOS
ARG TARGETARCH
# VERSION is stamped into the binaries too, so `version` names the release.
ARG VERSION=dev
# The source is bind-mounted rather than copied: nothing of it stays in a
# layer, and the module and build caches persist between builds so a change to
# one package recompiles only that package.
# CGO off gives a static binary that needs no libc in the final image;
# -trimpath keeps the build machine's paths out of it.
RUN --mount=type=bind,target=/src \
    --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH GOFLAGS=-mod=readonly \
    go build -trimpath -buildvcs=false -ldflags="-s -w -X main.version=${VERSION}" -o /out/ ./cmd/dockopt-app ./cmd/dockopt \
 && mkdir -p /out/data

# static-debian12 holds CA certificates, tzdata and /etc/passwd entries, and no
# shell or package manager; the :nonroot variant defaults to uid 65532.
FROM gcr.io/distroless/static-debian12:nonroot@sha256:afa5c872c891853ca7fcf1f12c3edb23f7eeef36189728842dd51042ff57f7ab
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="dockopt" \
      org.opencontainers.image.description="GitHub App that makes Dockerfiles production-ready" \
      org.opencontainers.image.url="https://github.com/dockopt/dockopt" \
      org.opencontainers.image.source="https://github.com/dockopt/dockopt" \
      org.opencontainers.image.documentation="https://github.com/dockopt/dockopt/tree/main/deploy" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="gcr.io/distroless/static-debian12:nonroot"
COPY --from=build --chmod=0555 /out/dockopt-app /out/dockopt /
# The working directory holds the embedded SQLite queue by default; mount a
# volume here to keep it across restarts (the Helm chart and compose file do).
COPY --from=build --chown=nonroot:nonroot /out/data /var/lib/dockopt
WORKDIR /var/lib/dockopt
USER 65532:65532
ENV DOCKOPT_ADDR=:8080
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/dockopt-app", "healthcheck"]
ENTRYPOINT ["/dockopt-app"]
CMD ["serve"]
