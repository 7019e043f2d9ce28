FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
RUN pip install --no-cache-dir .
COPY . .
# The translations' .mo files are built, not committed (docs/i18n.md).
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends gettext >/dev/null \
    && for po in locale/*/LC_MESSAGES/*.po; do msgfmt --check-format -o "${po%.po}.mo" "$po"; done \
    && apt-get purge -y -qq gettext >/dev/null && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home parley && mkdir -p /data/media && chown parley /data/media /app
USER parley
EXPOSE 8000
CMD ["uvicorn", "parley.asgi:application", "--host", "0.0.0.0", "--port", "8000"]
