# netguard: multi-stage build on the current Node LTS. The runtime image holds the compiled CLI,
# production dependencies and the default policies, and runs as a non-root numeric user
# (runAsNonRoot can verify a number, not a name).

FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` builds, and the sources are not copied yet.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

FROM node:24-bookworm-slim
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
