# One image for every service and role: `kongfu serve <service> --mode stack --roles <role>`.
# Dependencies are the == pins of pyproject.toml, installed from it (no second list to drift).
# No HEALTHCHECK: Kubernetes probes /readyz and /healthz.

FROM python:3.11.14-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/kongfu
COPY pyproject.toml ./
COPY kongfu ./kongfu
COPY service_runtime ./service_runtime
COPY contracts ./contracts
COPY services ./services
# Every dependency has a binary wheel (psycopg[binary]), so no compiler is needed even here.
RUN /opt/kongfu/bin/pip install --no-compile . && /opt/kongfu/bin/pip check

FROM python:3.11.14-slim-bookworm
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin kongfu
COPY --from=build /opt/kongfu /opt/kongfu
ENV PATH=/opt/kongfu/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    KONGFU_MODE=stack \
    KONGFU_VAR_DIR=/tmp/kongfu
USER 10001:10001
WORKDIR /tmp
EXPOSE 8080
ENTRYPOINT ["kongfu"]
CMD ["serve", "orders", "--mode", "stack", "--roles", "api", "--host", "0.0.0.0", "--port", "8080"]
