# syntax=docker/dockerfile:1
# The hook server image: `docker build -t <registry>/llmsafespace-hooks:<tag> .`
#
# Three stages: build (all dependencies, TypeScript → dist/), deps (production dependencies
# only) and a distroless runtime with no shell and no package manager, running as uid 65532.

# The build stages run on the Debian release the runtime image is built from (bookworm =
# debian12), so anything compiled for one runs on the other.
ARG NODE_IMAGE=node:20-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs20-debian12:nonroot

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
# Everything .dockerignore lets through: the sources tsconfig.build.json compiles (src/, hooks/,
# bin/), the tsconfig files and crds/.
COPY . .
RUN npm run build

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the production dependencies need no install script (package-lock.json).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${RUNTIME_IMAGE}
WORKDIR /app
ENV NODE_ENV=production
# package.json: "type": "module" makes dist/**/*.js ES modules, and the server finds crds/ by
# walking up from dist/src/api/ to the folder that holds package.json (src/api/crds.ts). crds/ is the one
# source of the request schemas, read at start.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/crds ./crds
USER 65532:65532
EXPOSE 8080
# The distroless image's entrypoint is node itself.
CMD ["dist/src/server/main.js"]
