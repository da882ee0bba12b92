# gemini-gateway: `docker build -t gemini-gateway .`, then
#   docker run -p 8080:8080 -e GEMINI_API_KEY=... gemini-gateway            (real Gemini)
#   docker run -p 8080:8080 gemini-gateway serve --emulator                  (offline demo)
# Listens on 0.0.0.0:8080 (GATEWAY_HOST / GATEWAY_PORT), reads /etc/gemini-gateway/gateway.toml,
# keeps SQLite state in the /data volume (GATEWAY_STATE=sqlite:////data/state.db). The drain after
# SIGTERM (GATEWAY_DRAIN_SECONDS=8) fits under `docker stop`'s 10 s; raise both together
# (`docker stop -t` / `--stop-timeout`, compose `stop_grace_period`) for longer streams.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY gateway ./gateway
# [images]: Pillow, for the history budget's downsampling and the Images API's output_format
RUN pip install --no-cache-dir --prefix=/install ".[images]"

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 gateway \
    && mkdir -p /data && chown gateway:gateway /data
COPY --from=build /install /usr/local
COPY config/gateway.toml /etc/gemini-gateway/gateway.toml
ENV PYTHONUNBUFFERED=1 \
    GATEWAY_CONFIG=/etc/gemini-gateway/gateway.toml \
    GATEWAY_HOST=0.0.0.0 \
    GATEWAY_PORT=8080 \
    GATEWAY_DRAIN_SECONDS=8
WORKDIR /data
VOLUME ["/data"]
USER gateway
EXPOSE 8080
# `docker stop` waits 10 s before SIGKILL: drain for 8 s (streams end in-band at 7 s). Raise it
# together with `docker run --stop-timeout` / compose `stop_grace_period` (README, Operations).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s CMD ["gemini-gateway", "healthcheck"]
ENTRYPOINT ["gemini-gateway"]
CMD ["serve"]
