# qobuz-connect-bridge for plain Docker (README "Docker"). Build from the repository root:
#   docker build -t qobuz-connect-bridge .
# Run with host networking (mDNS must reach the LAN; see docker-compose.example.yml):
#   docker run -d --network host -v "$PWD/config:/config" qobuz-connect-bridge
# The config is read from /config/config.yaml (start from config.example.yaml).
# The Home Assistant add-on has its own image: addon/Dockerfile.

# Node.js 24, the active LTS (README "Security": Node 20 reached its end of life on 2026-04-30,
# and the HTTP parser facing the LAN gets no fixes there any more).

# --- build: full npm ci (TypeScript is a dev dependency), compile, then drop dev deps ------
FROM node:24-slim AS build
WORKDIR /build
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
# No dependency has an install script; --ignore-scripts keeps it that way.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY proto/ ./proto/
COPY scripts/copy-generated.mjs scripts/generate-proto.mjs ./scripts/
COPY src/ ./src/
RUN npm run build && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

# --- run --------------------------------------------------------------------------------
FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /build/package.json ./
COPY --from=build /build/node_modules/ ./node_modules/
COPY --from=build /build/dist/ ./dist/
COPY config.schema.json config.example.yaml LICENSE ./
# The node image's unprivileged user; the bridge needs no privileged port (8689, 1883).
USER node
# 8689/tcp: Qobuz app calls and MPD stream redirects (http.port); mDNS uses 5353/udp. With
# --network host this is informative. 1883/tcp is deliberately not exposed: the embedded MQTT
# broker (only without mqtt.url) listens on 127.0.0.1 (mqtt.embedded_bind) and is meant for
# this host alone; for Home Assistant, use a broker with credentials of its own (mqtt.url,
# mqtt.username, mqtt.password; README "Docker").
EXPOSE 8689/tcp
ENTRYPOINT ["node", "dist/src/main.js"]
CMD ["--config", "/config/config.yaml"]
