# epimap portal under gunicorn. PostGIS runs separately (see docker-compose.yml).
FROM node:20-bookworm-slim AS assets
WORKDIR /src/portal/assets
COPY portal/assets/package.json portal/assets/package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 EPIMAP_PORT=8000
RUN useradd --create-home --uid 10001 epimap
WORKDIR /app
COPY setup.cfg pyproject.toml README.md LICENSE ./
COPY epimap epimap
COPY boundaries boundaries
COPY layers layers
COPY ingest ingest
COPY officials officials
COPY portal portal
COPY data data
COPY --from=assets /src/portal/assets/node_modules portal/assets/node_modules
RUN pip install --no-cache-dir -e . && chown -R epimap /app
# Uploaded feeds, shared by the app and the job workers (a named volume in docker-compose.yml).
RUN mkdir /uploads && chown epimap /uploads
USER epimap
EXPOSE 8000
CMD ["sh", "-c", "epimap db migrate && epimap demo load --if-absent && epimap accounts ensure-admin && exec gunicorn --workers 4 --bind 0.0.0.0:${EPIMAP_PORT} --access-logfile - 'portal:create_app()'"]
