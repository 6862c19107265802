# Worker image for docker-compose.yml (both roles; the command picks one). Not built here: no Docker engine.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
USER node
