"""Production-style settings: DEBUG off, JSON renderer only, token authentication.

The database comes from the environment: ``PEER_SQLITE_PATH`` or ``PEER_POSTGRES_NAME``.
"""

import os

SECRET_KEY = os.environ.get("PEER_SECRET_KEY", "bench-peer-not-a-secret")
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "django_peer.urls"
WSGI_APPLICATION = "django_peer.wsgi.application"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "rest_framework",
    "rest_framework.authtoken",
    "django_peer.projects",
]

# ``startproject``'s defaults, less sessions, messages and session authentication: this API
# is used with tokens only, which DRF authenticates itself.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

if os.environ.get("PEER_POSTGRES_NAME"):
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ["PEER_POSTGRES_NAME"],
            "USER": os.environ.get("PEER_POSTGRES_USER", "postgres"),
            "HOST": os.environ.get("PEER_POSTGRES_HOST", "127.0.0.1"),
            "PORT": os.environ.get("PEER_POSTGRES_PORT", "5432"),
            "CONN_MAX_AGE": 60,  # persistent connections, as deployed
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("PEER_SQLITE_PATH", "peer.sqlite3"),
            "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"},
        }
    }

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}

LOGGING = {"version": 1, "disable_existing_loggers": False}
