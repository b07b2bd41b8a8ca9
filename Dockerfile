# One image for both roles: `hub` (default command) and `agent` (see docker-compose.yml).
# better-sqlite3 is compiled in the build stage, for the same base image it runs on.
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /data /state && chown node:node /data /state
# Named volumes take this ownership when first created: no root needed at run time.
USER node
VOLUME ["/data", "/state"]
EXPOSE 8080
ENTRYPOINT ["node", "dist/edgewatch.mjs"]
CMD ["hub", "--host", "0.0.0.0", "--port", "8080", "--data", "/data"]
