# connector-kaspersky container image: the same environment variables as OpenCTI's Python
# image, and a config.yml mounted where that image reads it.
#
# The build context holds only the crate's sources (see .dockerignore).

# Build stage: the release binary, without the TIP simulator (tests and `demo` only).
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --no-default-features --features yara-validate \
    && cp target/release/connector-kaspersky /connector-kaspersky

# Runtime stage: glibc and CA certificates, no shell, no package manager. It runs as the
# image's unprivileged user (uid and gid 65532), which must be able to read the mounted
# client certificate.
FROM gcr.io/distroless/cc-debian12:nonroot
LABEL org.opencontainers.image.title="connector-kaspersky" \
      org.opencontainers.image.description="Kaspersky Threat Intelligence Portal to OpenCTI" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /connector-kaspersky /usr/local/bin/connector-kaspersky
# ./config.yml is read from the working directory, the path of the Python image's file.
WORKDIR /opt/opencti-connector-kaspersky
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/connector-kaspersky"]
CMD ["run"]
