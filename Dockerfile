# connector-kaspersky container image.
#
# Build stage: the release binary, without the TIP simulator (tests and `demo` only).
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY benches ./benches
RUN cargo build --release --locked --no-default-features --features yara-validate \
    && cp target/release/connector-kaspersky /connector-kaspersky

# Runtime stage: glibc and CA certificates only, no shell, a non-root user.
FROM gcr.io/distroless/cc-debian12:nonroot
LABEL org.opencontainers.image.title="connector-kaspersky" \
      org.opencontainers.image.description="Kaspersky Threat Intelligence Portal to OpenCTI" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /connector-kaspersky /usr/local/bin/connector-kaspersky
# config.yml is read from the working directory when mounted there.
WORKDIR /opt/connector
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/connector-kaspersky"]
CMD ["run"]
