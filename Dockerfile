# CPU image that serves the trendloom API on port 8000. The workspace (SQLite database, images,
# indexes) lives in the /data volume; set DATABASE_URL to use PostgreSQL instead, and then
# TRENDLOOM_WORKERS=N for N API worker processes (compose.yaml runs PostgreSQL + this image that way).
FROM python:3.11-slim

ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ENV PIP_NO_CACHE_DIR=1 \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    TRENDLOOM_HOME=/data \
    TRENDLOOM_IMAGE_MODEL=/srv/trendloom/weights/trendloom-flat-32

WORKDIR /srv/trendloom
# torch first, from the CPU-only index, so nothing below pulls CUDA packages.
RUN pip install --index-url "$TORCH_INDEX_URL" torch==2.13.0

COPY pyproject.toml README.md ./
COPY app ./app
COPY generation ./generation
COPY matching ./matching
COPY weights ./weights
RUN pip install ".[postgres]"

RUN useradd --create-home trendloom && mkdir -p /data && chown trendloom /data
ENV TRENDLOOM_WORKERS=1
USER trendloom
VOLUME /data
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["trendloom", "serve", "--host", "0.0.0.0", "--port", "8000"]
