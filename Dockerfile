# TrialFinder web process (and, with a different command, the worker).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 TRIALFINDER_ENV=production
WORKDIR /srv/trialfinder
COPY pyproject.toml README.md alembic.ini ./
COPY app app
COPY migrations migrations
COPY templates templates
COPY static static
RUN pip install --no-cache-dir -e . && useradd --system --home /srv/trialfinder trialfinder \
    && mkdir -p var && chown trialfinder var
USER trialfinder
EXPOSE 8000
CMD ["trialfinder", "serve", "--host", "0.0.0.0", "--port", "8000"]
