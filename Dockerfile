# syntax=docker/dockerfile:1
# Build stage: compile TypeScript and the native SQLite binding (better-sqlite3), then drop dev dependencies.
# Generated code in gen/ is committed, so buf is not needed here.
FROM node:20-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are copied; the SQLite binding is built on its own.
RUN npm ci --ignore-scripts --no-audit --no-fund && npm rebuild better-sqlite3
COPY tsconfig.json tsconfig.build.json ./
COPY gen ./gen
COPY src ./src
COPY bench ./bench
RUN npm run build && npm prune --omit=dev --no-audit --no-fund && npm cache clean --force

# Runtime stage: production dependencies (with the compiled binding) only, non-root.
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
# Keys, budgets, the usage ledger and alert state live in SQLite: point storage.sqlite.path here and mount a
# volume, so they survive the container.
RUN mkdir -p /var/lib/llm-gateway && chown node:node /var/lib/llm-gateway
VOLUME /var/lib/llm-gateway
USER node
EXPOSE 50051
# grpc.health.v1.Health/Check over the Connect protocol (plain HTTP/1.1 JSON) on the same port as gRPC.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.HEALTHCHECK_PORT||50051)+'/grpc.health.v1.Health/Check',{method:'POST',headers:{'content-type':'application/json'},body:'{}'}).then(r=>r.json()).then(j=>process.exit(j.status==='SERVING'?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "bin/llm-gateway.js"]
CMD ["serve", "--config", "/etc/llm-gateway/config.yaml"]
