# syntax=docker/dockerfile:1
# HSI container image, also the base of the Home Assistant add-on (ha-addon/Dockerfile).
#
#   docker build -t hsi .                                  # VARIANT=cpu: amd64 and arm64
#   docker build --build-arg VARIANT=cuda -t hsi:cuda .    # amd64 only; run with `docker run --gpus all`
#
# cpu:  onnxruntime-node's CPU provider (bundled in the npm package).
# cuda: + onnxruntime-node's CUDA 12 provider files, fetched from NuGet by its own installer
#       (ONNXRUNTIME_NODE_INSTALL=cuda12),
#       + the CUDA 12 and cuDNN 9 runtime libraries from NVIDIA's pip wheels, copied into /opt/hsi-cuda. Wheels,
#       rather than an nvidia/cuda base image, keep one Debian runtime for both variants and pin each library
#       version here. The driver itself (libcuda) comes from the host through the NVIDIA container toolkit.
#
# Runs as the non-root user `hsi` (uid 10001); volumes /data (database, thumbnails) and /media (camera uploads).

ARG NODE_IMAGE=node:22-bookworm-slim
ARG VARIANT=cpu

# ---- build: compile src/ to dist/ and the web UI (web/, an npm workspace) to web/dist/ with the dev dependencies
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
COPY web/package.json ./web/
# Compiling needs no native library: onnxruntime-node's download step is skipped here.
RUN ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY web ./web
RUN npm run build && test -f web/dist/index.html

# ---- deps: production node_modules only (npm ci --omit=dev); for VARIANT=cuda, onnxruntime-node's CUDA 12 files.
# Its installer is run explicitly rather than trusted to npm's postinstall, which newer npm versions may skip.
FROM ${NODE_IMAGE} AS deps
ARG VARIANT
WORKDIR /app
# web/ is a workspace of the lockfile; it has no production dependency (the image ships only its build).
COPY package.json package-lock.json ./
COPY web/package.json ./web/
RUN set -eu; \
    case "${VARIANT}" in \
      cpu) ;; \
      cuda) \
        if [ "$(uname -m)" != x86_64 ]; then \
          echo "VARIANT=cuda is amd64 only: onnxruntime-node has no CUDA provider for $(uname -m)" >&2; exit 1; \
        fi ;; \
      *) echo "VARIANT must be cpu or cuda, not '${VARIANT}'" >&2; exit 1 ;; \
    esac; \
    ONNXRUNTIME_NODE_INSTALL=skip npm ci --omit=dev --no-audit --no-fund; \
    if [ "${VARIANT}" = cuda ]; then \
      (cd node_modules/onnxruntime-node && ONNXRUNTIME_NODE_INSTALL=cuda12 node script/install.js); \
      test -f node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so; \
    fi; \
    npm cache clean --force

# ---- model: the default detector (YOLOX-Nano, Apache-2.0), checked against its published sha256
FROM debian:bookworm-slim AS model
ARG MODEL_URL=https://github.com/Megvii-BaseDetection/YOLOX/releases/download/0.1.1rc0/yolox_nano.onnx
ARG MODEL_SHA256=e8af074932d4ed7e232278e3055cefcdea3edf178874a3694ae292649fb464dd
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*
RUN mkdir -p /assets/models \
 && curl -fsSL --retry 5 --retry-delay 2 -o /assets/models/yolox_nano.onnx "${MODEL_URL}" \
 && echo "${MODEL_SHA256}  /assets/models/yolox_nano.onnx" | sha256sum -c -

# ---- cuda-libs: CUDA 12 + cuDNN 9 runtime libraries for onnxruntime's CUDA provider (VARIANT=cuda only)
FROM python:3.12-slim-bookworm AS cuda-libs
ARG CUDA_RUNTIME_VERSION=12.9.79
ARG CUBLAS_VERSION=12.9.3.13
ARG CUDNN_VERSION=9.27.0.42
ARG CUFFT_VERSION=11.4.1.4
ARG CURAND_VERSION=10.3.10.19
RUN pip install --no-cache-dir --target /opt/wheels \
      "nvidia-cuda-runtime-cu12==${CUDA_RUNTIME_VERSION}" \
      "nvidia-cublas-cu12==${CUBLAS_VERSION}" \
      "nvidia-cudnn-cu12==${CUDNN_VERSION}" \
      "nvidia-cufft-cu12==${CUFFT_VERSION}" \
      "nvidia-curand-cu12==${CURAND_VERSION}" \
 && mkdir -p /opt/hsi-cuda \
 && cp -a /opt/wheels/nvidia/*/lib/*.so* /opt/hsi-cuda/

# ---- runtime
FROM ${NODE_IMAGE} AS runtime-base
# jemalloc replaces glibc's allocator (LD_PRELOAD below): with onnxruntime, libvips and PGlite allocating from many
# threads, glibc's per-thread arenas kept ~70 MB more resident over a 1000-image soak (470 -> 400 MB, same
# throughput; docs/PERFORMANCE.md). The link gives one path on amd64 and arm64.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates ffmpeg libjemalloc2 tini tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && ln -s "/usr/lib/$(uname -m)-linux-gnu/libjemalloc.so.2" /usr/local/lib/libjemalloc.so.2 \
 && groupadd --system --gid 10001 hsi \
 && useradd --system --uid 10001 --gid hsi --home-dir /app --shell /usr/sbin/nologin hsi \
 && mkdir -p /data /media \
 && chown hsi:hsi /data /media

FROM runtime-base AS runtime-cpu

FROM runtime-base AS runtime-cuda
COPY --from=cuda-libs /opt/hsi-cuda /opt/hsi-cuda
ENV LD_LIBRARY_PATH=/opt/hsi-cuda \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility

FROM runtime-${VARIANT} AS runtime
ARG VARIANT
WORKDIR /app
ENV NODE_ENV=production \
    HSI_ASSETS_DIR=/app/assets \
    LD_PRELOAD=/usr/local/lib/libjemalloc.so.2
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY migrations ./migrations
COPY --from=build /src/dist ./dist
# The web UI, served at / by dist/api/routes/ui.js from web/dist beside dist/ (the add-on's ingress panel too).
COPY --from=build /src/web/dist ./web/dist
COPY --from=model /assets ./assets
# The image's defaults (data_dir /data, media_root /media, listen on all interfaces): the YAML layer.
COPY docker/hsi.yaml ./config.yaml
LABEL org.opencontainers.image.title="HSI" \
      org.opencontainers.image.description="Home Security Intelligence: local camera security for Home Assistant" \
      org.opencontainers.image.source="https://github.com/hsi-project/hsi" \
      org.opencontainers.image.licenses="Apache-2.0" \
      io.hsi.variant="${VARIANT}"
USER hsi
VOLUME ["/data", "/media"]
EXPOSE 8099 1883 2121 30000-30009
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.HSI_HTTP_PORT || 8099) + '/api/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/cli.js", "run"]
