# The notification service: `docker compose up` builds this. TypeScript is compiled here (`npm run build`), and the
# image runs the compiled JavaScript with production dependencies only.
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:20-slim
WORKDIR /app
ENV NODE_ENV=production AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY --from=build /app/dist ./dist
USER node
EXPOSE 3000
# A larger young generation: work in flight outlives fewer scavenges, so less of it is promoted and collected again.
CMD ["node", "--max-semi-space-size=64", "dist/main.js"]
