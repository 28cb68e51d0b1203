# The Credo agent under test (src/agents/credo: Credo 0.6.3 behind an AATH backchannel) as a container image.
# The build context is prepared by docker/build-credo.sh, so the image build downloads nothing (no registry is
# reachable here, and the Debian `nodejs` package is not in a debootstrap minbase):
#   node/   the host's Node.js binary (a self-contained build: it needs only glibc and libstdc++, both in the base);
#   app/    src/agents/credo with its installed node_modules (`npm install --ignore-scripts` on the host).
# BASE: local/debian:bookworm (debootstrap minbase, docker/build.sh --base-only) here, debian:bookworm-slim elsewhere.
ARG BASE=debian:bookworm-slim
FROM ${BASE}
COPY node/node /usr/local/bin/node
COPY app/ /opt/credo/
WORKDIR /opt/credo
ENV NODE_ENV=production
LABEL org.opencontainers.image.title="conformance credo agent" \
      org.opencontainers.image.description="Credo 0.6.3 (DIDComm v1) with an AATH backchannel, for the Conformance harness"
# Run with host networking (the harness does): the backchannel listens on 127.0.0.1 only.
ENTRYPOINT ["/usr/local/bin/node", "/opt/credo/backchannel.js"]
CMD ["--port", "9020", "--didcomm-port", "9021", "--label", "credo (docker)"]
