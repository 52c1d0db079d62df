# The production image: `datamill` as entrypoint, running as a non-root user (docs/executors.md).
# The base images are build arguments: where no registry is reachable, the tests import stand-ins made
# from the host's own files under these same tags (test/support/docker-images.ts).
ARG NODE_IMAGE=node:22-bookworm
ARG RUNTIME_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
# better-sqlite3 compiles from source (no prebuilt download): the full node image has python3, make, g++.
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.image.json ./
COPY src ./src
COPY adapters ./adapters
COPY transforms ./transforms
RUN npx tsc -p tsconfig.image.json && npm prune --omit=dev

FROM ${RUNTIME_IMAGE}
ENV NODE_ENV=production DATAMILL_HOME=/var/lib/datamill
WORKDIR /app
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY jobs ./jobs
RUN mkdir -p /var/lib/datamill && chown -R 1000:1000 /var/lib/datamill
# uid 1000 is the `node` user of the official node images; numeric so any base works.
USER 1000:1000
ENTRYPOINT ["node", "/app/dist/src/cli/main.js"]
CMD ["--help"]
