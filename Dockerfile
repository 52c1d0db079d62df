# The production image: `datamill` as entrypoint, running as a non-root user.
# Built and exercised by the container-executor work (issue #4); the base is a build argument so it can
# be swapped for a locally imported image where no registry is reachable.
ARG NODE_IMAGE=node:22-bookworm
ARG RUNTIME_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
# better-sqlite3 compiles from source (no prebuilt download): the full node image has python3, make, g++.
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY adapters ./adapters
COPY transforms ./transforms
COPY test ./test
COPY bench ./bench
RUN npx tsc -p tsconfig.json && npm prune --omit=dev

FROM ${RUNTIME_IMAGE}
ENV NODE_ENV=production DATAMILL_HOME=/var/lib/datamill
WORKDIR /app
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY jobs ./jobs
RUN mkdir -p /var/lib/datamill && chown -R node:node /var/lib/datamill
USER node
ENTRYPOINT ["node", "/app/dist/src/cli/main.js"]
CMD ["--help"]
