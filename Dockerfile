# The notification service: `docker compose up` builds this. TypeScript is compiled here (`npm run build`), and the
# image runs the compiled JavaScript with production dependencies only.
FROM node:22-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:22-slim
WORKDIR /app
ENV NODE_ENV=production AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY --from=build /app/dist ./dist
USER node
EXPOSE 3000
# Healthy while /readyz answers 200 on the HTTP port (the slim image has no curl: node's own fetch).
HEALTHCHECK --interval=5s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.NOTIFY_HTTP_PORT || 3000}/readyz`, { signal: AbortSignal.timeout(2000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# A larger young generation: work in flight outlives fewer scavenges, so less of it is promoted and collected again.
CMD ["node", "--max-semi-space-size=64", "dist/main.js"]
