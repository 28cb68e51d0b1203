# The reference agent (`conformance agent`) as a container image.
# The build context is prepared by docker/build.sh: app/ is a self-contained `dotnet publish -r linux-x64` of
# src/Conformance.Cli (no .NET runtime needed in the image), lib/ holds libsodium.so.23, libssl.so.3 and libcrypto.so.3
# copied from the host (.NET's own crypto is OpenSSL), so the build downloads nothing and works from any glibc base:
# local/debian:bookworm (debootstrap, no registry) here, debian:bookworm-slim where a registry is reachable.
ARG BASE=debian:bookworm-slim
FROM ${BASE}
COPY lib/ /usr/lib/x86_64-linux-gnu/
COPY app/ /opt/conformance/
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 \
    DOTNET_NOLOGO=1 \
    DOTNET_gcServer=0
LABEL org.opencontainers.image.title="conformance reference agent" \
      org.opencontainers.image.description="DIDComm reference agent with an AATH backchannel"
# Run with host networking (the harness does): the backchannel listens on 127.0.0.1 only.
ENTRYPOINT ["/opt/conformance/conformance"]
CMD ["agent", "--port", "9020", "--backchannel-port", "9021"]
