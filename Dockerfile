# syntax=docker/dockerfile:1
# Build stage: compile TypeScript (generated code in gen/ is committed, so buf is not needed here).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY gen ./gen
COPY src ./src
COPY bench ./bench
RUN npm run build

# Runtime stage: production dependencies only, non-root.
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
USER node
EXPOSE 50051
# grpc.health.v1.Health/Check over the Connect protocol (plain HTTP/1.1 JSON) on the same port as gRPC.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.HEALTHCHECK_PORT||50051)+'/grpc.health.v1.Health/Check',{method:'POST',headers:{'content-type':'application/json'},body:'{}'}).then(r=>r.json()).then(j=>process.exit(j.status==='SERVING'?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "bin/llm-gateway.js"]
CMD ["serve", "--config", "/etc/llm-gateway/config.yaml"]
