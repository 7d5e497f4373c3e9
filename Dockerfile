# TrialFinder's image. It serves the web site; the email worker and the migration step are
# the same image with another command (README, "Deploying with PostgreSQL").
#
# Two stages. `build` makes a wheel of the source and installs it, with the locked and
# hash-checked dependencies, into a virtualenv; `runtime` receives that virtualenv alone: no
# source tree, no build tools, nothing editable. tests/functional/test_install.py performs
# the same steps outside Docker (no Docker engine runs where the tests run), so this file has
# not been built by them: keep the two in step.
#
# Pin the base image by digest (python:3.11-slim@sha256:...) for byte-for-byte rebuilds;
# both stages must use the same one, as the virtualenv refers to its Python by path.
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
# The dependencies first, from the lock alone, so that this layer is rebuilt only when the
# lock changes. Every file pip fetches must match a hash in the lock, setuptools included.
COPY requirements/runtime.txt requirements/runtime.txt
RUN python -m venv /opt/trialfinder \
    && /opt/trialfinder/bin/pip install --require-hashes -r requirements/runtime.txt
COPY pyproject.toml README.md ./
COPY app app
COPY templates templates
COPY static static
COPY migrations migrations
# Built with the locked setuptools just installed (build isolation would fetch an unpinned
# one) and installed without dependencies, which the lock has provided; `pip check` fails the
# build if the lock lacks any. The wheel carries templates, static files and migrations.
RUN /opt/trialfinder/bin/pip wheel --no-deps --no-build-isolation --wheel-dir /tmp/dist . \
    && /opt/trialfinder/bin/pip install --no-deps /tmp/dist/trialfinder-*.whl \
    && /opt/trialfinder/bin/pip check

FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/trialfinder/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TRIALFINDER_ENV=production
# An unprivileged user with a numeric id (so that runAsNonRoot-style checks can verify it);
# it may write only var/, where SQLite and the file mail backend keep their files.
RUN useradd --system --uid 10001 --user-group --no-create-home \
        --home-dir /srv/trialfinder --shell /usr/sbin/nologin trialfinder \
    && mkdir -p /srv/trialfinder/var \
    && chown 10001:10001 /srv/trialfinder/var
COPY --from=build /opt/trialfinder /opt/trialfinder
WORKDIR /srv/trialfinder
USER 10001:10001
EXPOSE 8000
# The slim image has no curl, so the check asks /healthz with the Python it has. /healthz
# says the process answers; /readyz (the database too) is for the load balancer. A container
# running `trialfinder worker` serves no HTTP: run it with the health check disabled
# (`docker run --no-healthcheck`, or `healthcheck: disable: true` in Compose).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
# TRIALFINDER_ENV=production: serving does not migrate. Run `trialfinder db upgrade` with
# this image once per release, first; on an older schema `serve` refuses to start.
CMD ["trialfinder", "serve", "--host", "0.0.0.0", "--port", "8000"]
