# otslite: one static binary on an empty image.
#   docker build -t otslite .
#   docker run --rm --read-only --cap-add IPC_LOCK --ulimit memlock=-1 \
#     -p 127.0.0.1:7143:7143 otslite
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Keep in step with .ci/run, which builds and checks the same binary.
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w -buildid=' -o /otslite .

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
