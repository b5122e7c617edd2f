# komodo-mcp over Streamable HTTP. Build: docker build -t komodo-mcp .
# Run:   docker run -p 8000:8000 -e KOMODO_URL=... -e KOMODO_API_KEY=... -e KOMODO_API_SECRET_FILE=/run/secrets/komodo \
#          -e KOMODO_MCP_AUTH_TOKEN=... -e KOMODO_MCP_ALLOWED_HOSTS=mcp.example.com komodo-mcp
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip wheel --no-cache-dir --wheel-dir /wheels '.[otel]'

FROM python:3.11-slim
RUN useradd --system --uid 10001 --create-home komodo
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links=/wheels 'komodo-mcp[otel]' && rm -rf /wheels
USER komodo
# Listening beyond loopback needs KOMODO_MCP_AUTH_TOKEN (or the OAuth settings); DNS-rebinding checks stay on, so
# name the public host in KOMODO_MCP_ALLOWED_HOSTS.
ENV KOMODO_MCP_TRANSPORT=http KOMODO_MCP_HOST=0.0.0.0 KOMODO_MCP_PORT=8000 PYTHONUNBUFFERED=1
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health')"
ENTRYPOINT ["komodo-mcp"]
