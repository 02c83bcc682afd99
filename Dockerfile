# The notification service: `docker compose up` builds this.
FROM node:20-slim
WORKDIR /app
ENV NODE_ENV=production AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
USER node
EXPOSE 3000
# A larger young generation: work in flight outlives fewer scavenges, so less of it is promoted and collected again.
CMD ["node", "--max-semi-space-size=64", "--import", "tsx", "src/main.ts"]
