FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY gateway ./gateway
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 gateway
COPY --from=build /install /usr/local
COPY config /etc/gemini-gateway
USER gateway
EXPOSE 8080
ENV PYTHONUNBUFFERED=1
# `docker stop` waits 10 s before SIGKILL: drain for 8 s (streams end in-band at 7 s). Raise it
# together with `docker run --stop-timeout` / compose `stop_grace_period` (README, Operations).
ENV GATEWAY_DRAIN_SECONDS=8
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz').status==200 else 1)"
ENTRYPOINT ["gemini-gateway"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
