# rehearse as a container: the load generator of a sharded run on Kubernetes, or any job
# that runs it. Multi-stage: the build image has the Rust toolchain; the runtime image has
# only the binary, glibc and CA certificates, and runs as a non-root user.
#
#   docker build -t rehearse .
#   docker run --rm rehearse validate /scenarios/pay-invoice.toml   (with scenarios mounted)

FROM rust:1-slim-bookworm AS build
WORKDIR /src
# The dependency graph first, so a change to the sources does not rebuild every crate.
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY benches ./benches
COPY migrations ./migrations
COPY schema ./schema
COPY assets ./assets
COPY scenarios ./scenarios
RUN cargo build --release --locked --bin rehearse \
    && strip target/release/rehearse

# distroless/cc: glibc and libgcc, CA certificates, no shell; the `nonroot` tag runs as
# uid 65532.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/rehearse /usr/local/bin/rehearse
COPY scenarios /scenarios
USER 65532:65532
# The nonroot user's home: writable, for the default store and reports/ when nothing else is
# mounted (on Kubernetes, --out goes to an emptyDir and the store is PostgreSQL).
WORKDIR /home/nonroot
ENTRYPOINT ["/usr/local/bin/rehearse"]
CMD ["--help"]
