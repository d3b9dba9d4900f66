# syntax=docker/dockerfile:1
# test/image-runtime.e2e-spec.ts rebuilds the runtime stage from this file without Docker (the deps
# stage's npm ci, the build, the ENV and CMD of the final stage, as an unprivileged user on read-only
# files) and starts it against PostgreSQL: keep the stages in this shape.

# ---- build: compile TypeScript (service and migrations) with the full toolchain
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --workspaces=false: the service needs none of the client packages under clients/; --ignore-scripts:
# the root `prepare` builds those clients for a checkout, and they are not in the image.
RUN npm ci --workspaces=false --ignore-scripts --no-audit --no-fund
COPY nest-cli.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
RUN npm run build

# ---- deps: production dependencies only (no embedded PostgreSQL, no compilers). --omit=optional
# also drops what typeorm and @nestjs/swagger list as optional peers, which npm would otherwise install
# because the development tree has them (ts-node, TypeScript, SWC: ~38 MB), and pg-cloudflare.
# No production dependency needs an install script; the root `prepare` (the clients' build) must not run.
FROM node:22-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --omit=optional --workspaces=false --ignore-scripts --no-audit --no-fund && npm cache clean --force

# ---- runtime
FROM node:22-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8003 \
    LOG_FORMAT=json
WORKDIR /app
# Owned by root and only readable by the service's user: it cannot change its own code, and it runs
# unchanged on a read-only root filesystem (it writes nothing outside /tmp and ARCHIVE_DIR).
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
USER node
EXPOSE 8003
# Liveness only: a database outage must not get the container restarted.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8003)+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The image needs POSTGRES_HOST: it does not ship the embedded PostgreSQL.
# `node dist/database/migrate.cli.js` runs migrations as a separate job (then set DB_MIGRATIONS_RUN=false).
# A larger young generation (32 MiB semi-spaces instead of 16): under load, objects of requests still
# waiting on the database are copied by fewer scavenges. No allocation-site pretenuring: V8 would
# otherwise start allocating the rows and dates of requests in flight directly in the old generation,
# where they die as garbage that makes every scavenge slower. The same flags as `npm run start:prod`.
CMD ["node", "--max-semi-space-size=32", "--no-allocation-site-pretenuring", "dist/main.js"]
