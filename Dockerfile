# netguard: multi-stage build on the current Node LTS. The runtime image holds the compiled CLI,
# production dependencies and the default policies, and runs as a non-root numeric user
# (runAsNonRoot can verify a number, not a name).

# NODE_IMAGE: the release workflow resolves node:24-bookworm-slim to its digest at release time and
# passes it (node:24-bookworm-slim@sha256:...), so a release is built from one recorded base image.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` builds, and the sources are not copied yet.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY policies ./policies
# The image's `node` user (uid 1000); deploy/ runs it with a read-only root filesystem.
USER 1000:1000
EXPOSE 8443 9090
ENTRYPOINT ["node", "/app/dist/cli/main.js"]
CMD ["serve"]
