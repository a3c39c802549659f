# otslite: one static binary on an empty image.
#   docker build -t otslite .
#   docker run --rm --read-only --cap-drop ALL --security-opt no-new-privileges \
#     --ulimit memlock=-1 -p 127.0.0.1:7143:7143 \
#     -e OTSLITE_PUBLIC_URL=http://127.0.0.1:7143 otslite
# The build image is pinned by digest: the multi-platform index of
# golang:1.26.8-bookworm as the Docker Official Images publish it
# (github.com/docker-library/repo-info, repos/golang/remote/). To move to a
# newer Go, take the new tag's index digest from there or from
# "docker buildx imagetools inspect golang:<tag>".
FROM golang:1.26.8-bookworm@sha256:9fdc884aacc3bec89b20ffc69f4bb369c78210e3e4f600387b5128b12c199f81 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Keep in step with .ci/run, which builds and checks the same binary.
# runtime/secret (an experiment in Go 1.26) erases the write buffers
# crypto/tls drops; see SECURITY.md.
RUN GOEXPERIMENT=runtimesecret CGO_ENABLED=0 go build -trimpath -ldflags='-s -w -buildid=' -o /otslite .

FROM scratch
COPY --from=build /otslite /otslite
# nobody: no shell, no home, no files to write.
USER 65534:65534
ENV OTSLITE_LISTEN=0.0.0.0:7143
EXPOSE 7143
# The binary probes itself (GET /api/v1/status, which does not count as
# activity, so the check never keeps an idle session alive). No shell.
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s --retries=3 \
  CMD ["/otslite", "--healthcheck"]
ENTRYPOINT ["/otslite"]
