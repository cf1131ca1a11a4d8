# The welcome bot in a container: python:3.11-slim, a non-root user, state in the /data
# volume, the shipped knowledge base at /knowledge (mount your own there: edits reload live).
#   docker build -t welcome-bot .
#   docker run -d --name welcome-bot -e TELEGRAM_BOT_TOKEN=... \
#     -v welcome-bot-data:/data -v "$PWD/knowledge:/knowledge:ro" welcome-bot
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
COPY knowledge ./knowledge
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
# No .pyc files in the image layers, logs straight to `docker logs`.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    BOT_DATA_DIR=/data \
    BOT_KB=/knowledge \
    BOT_HEALTH_PORT=8080 \
    BOT_HEALTH_LISTEN=0.0.0.0
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin welcome-bot \
    && mkdir -p /data /knowledge && chown welcome-bot:welcome-bot /data
# The knowledge base the wheel ships, as the default /knowledge (a mount replaces it).
COPY --chown=root:root knowledge /knowledge
USER welcome-bot
VOLUME ["/data"]
EXPOSE 8080
# /healthz answers 200 only while polling works, the database takes writes and a knowledge
# base is loaded; the bot needs about 3 s to start, so the first checks wait 20 s.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status != 200)"]
ENTRYPOINT ["welcome-bot"]
CMD ["run"]
