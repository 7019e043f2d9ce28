FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
RUN pip install --no-cache-dir .
COPY . .
RUN useradd --create-home parley && mkdir -p /data/media && chown parley /data/media /app
USER parley
EXPOSE 8000
CMD ["uvicorn", "parley.asgi:application", "--host", "0.0.0.0", "--port", "8000"]
