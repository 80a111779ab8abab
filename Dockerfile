# syntax=docker/dockerfile:1
# genrelay image: one image, two roles. Default command runs API + worker in one process;
# docker-compose.yml runs `node dist/api/main.js` and `node dist/worker/main.js` separately (and
# `node dist/simulator/main.js`, the keyless demo's upstream). Node 24, the current LTS (.ci/run tests on 24).

# ---- build: compile TypeScript to dist/ ---------------------------------------------------------
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No lifecycle scripts: `prepare` (the build) needs the sources, copied next, and runs below.
RUN npm ci --ignore-scripts
# Only what the build needs: a host node_modules or dist must never leak into the image.
COPY tsconfig.json ./
COPY src ./src
# `npm run build` compiles and copies src/shared/lua (scripts.ts reads the .lua files beside itself).
RUN npm run build && test -f dist/shared/lua/append.lua && test -f dist/api/public/viewer.html

# ---- runtime: production dependencies and dist/ only --------------------------------------------
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
# The base image's unprivileged `node` user (uid 1000); nothing under /app needs to be writable.
USER node
EXPOSE 8080
# Meaningful for the API role only: compose turns it off for workers, which serve no HTTP.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/main.js"]
