# Two stages: compile TypeScript, then ship only dist/ and the production dependencies.
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: only test tools (chopsticks' sqlite3) build native code, and the image needs none.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:24-slim
ENV NODE_ENV=production \
    REGISTRAR_HTTP_HOST=0.0.0.0 \
    REGISTRAR_STORE=sqlite:/var/lib/registrar/registrar.sqlite
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY config ./config
RUN mkdir -p /var/lib/registrar && chown node:node /var/lib/registrar
USER node
VOLUME /var/lib/registrar
EXPOSE 8080
# /healthz answers 200 while the process answers (starting, or reconnecting to the chain by itself);
# Node's fetch needs no curl in the image.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.REGISTRAR_HTTP_PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/main.js"]
