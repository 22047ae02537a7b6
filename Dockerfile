FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY workflow ./workflow
COPY states ./states
COPY services ./services
COPY notifications ./notifications
COPY panels ./panels
COPY app ./app
COPY migrations ./migrations
RUN pip install --no-cache-dir . && useradd --system --uid 10001 permanence
USER permanence
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz').status != 200)"
CMD ["permanence", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
