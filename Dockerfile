# syntax=docker/dockerfile:1
#
# proxmox-backup-exporter container image.
#
#   docker build -t proxmox-backup-exporter \
#     --build-arg VERSION="$(git describe --tags --always)" \
#     --build-arg REVISION="$(git rev-parse HEAD)" .
#   docker run -d -p 10074:10074 \
#     -v /etc/proxmox-backup-exporter:/etc/proxmox-backup-exporter:ro \
#     -e CREDENTIALS_DIRECTORY=/etc/proxmox-backup-exporter \
#     proxmox-backup-exporter
#
# The build stage runs `make build`, the same command CI runs in
# `make docker-build-check` (CI has no Docker daemon): a static binary
# (CGO_ENABLED=0, -trimpath) with its version set through
# -X github.com/prometheus/common/version.*.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
ARG BRANCH=unknown
ARG BUILD_DATE=unknown
RUN make build BIN=/out/proxmox-backup-exporter \
      VERSION="${VERSION}" REVISION="${REVISION}" BRANCH="${BRANCH}" \
      BUILD_USER=docker BUILD_DATE="${BUILD_DATE}"

# distroless/static: no shell, no libc, CA certificates included (we talk
# HTTPS to Proxmox with the system roots unless a target pins a
# fingerprint or names a CA file), runs as uid/gid 65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/proxmox-backup-exporter /bin/proxmox-backup-exporter
USER 65532:65532
EXPOSE 10074
ENTRYPOINT ["/bin/proxmox-backup-exporter"]
CMD ["--config.file=/etc/proxmox-backup-exporter/config.yml"]
