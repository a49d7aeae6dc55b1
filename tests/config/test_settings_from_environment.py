"""Start-up refuses bad configuration with a message naming the setting; production is hardened."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "k3y-" + "x9Q!zR7#wL2@" * 6


def manage(*args, **env):
    base = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "SECRET_KEY",
            "DEBUG",
            "DATABASE_URL",
            "DJANGO_SETTINGS_MODULE",
            "ALLOWED_HOSTS",
            "SECURE_SSL_REDIRECT",
            "EMAIL_BACKEND",
            "BEHIND_TLS_PROXY",
            "CONN_MAX_AGE",  # CI's PostgreSQL run sets the database's own, which these tests choose
            "DB_PREPARE_THRESHOLD",
        }
    }
    base.update(DJANGO_SETTINGS_MODULE="config.settings", **env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=base, capture_output=True, text=True, timeout=120
    )


def test_missing_secret_key_stops_startup_naming_the_setting():
    result = manage("check", DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_debug_gives_a_development_secret_key():
    result = manage("check", DEBUG="true")
    assert result.returncode == 0, result.stderr


def test_malformed_database_url_stops_startup_naming_the_setting():
    result = manage("check", DEBUG="true", DATABASE_URL="nonsense://")
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr


def test_database_url_without_a_database_name_is_refused():
    result = manage("check", DEBUG="true", DATABASE_URL="postgres://user@localhost:5432")
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr


def test_missing_allowed_hosts_with_debug_off_stops_startup_naming_the_setting():
    result = manage("check", DEBUG="false", SECRET_KEY=STRONG_KEY)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS is not set" in result.stderr


def _setting(name, **env):
    result = manage(
        "shell", "-c", f"from django.conf import settings; print(repr(settings.{name}))",
        DEBUG="false", SECRET_KEY=STRONG_KEY, ALLOWED_HOSTS="itsm.example.com", **env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_forwarded_proto_is_trusted_only_behind_a_tls_proxy():
    assert _setting("SECURE_PROXY_SSL_HEADER") == "None"
    assert (
        _setting("SECURE_PROXY_SSL_HEADER", BEHIND_TLS_PROXY="true") == "('HTTP_X_FORWARDED_PROTO', 'https')"
    )


def test_bad_debug_value_names_the_setting():
    result = manage("check", DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG must be true or false" in result.stderr


@pytest.mark.parametrize("behind_tls_proxy", ["false", "true"])
@pytest.mark.parametrize("database_url", ["sqlite:///var/deploy-check.sqlite3"])
def test_deploy_check_is_clean_with_debug_off(database_url, behind_tls_proxy):
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS="itsm.example.com",
        DATABASE_URL=database_url,
        BEHIND_TLS_PROXY=behind_tls_proxy,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_serves_compressed_hashed_static_files_and_logs_json():
    result = manage(
        "shell", "-c",
        "from django.conf import settings as s; "
        "print(s.STORAGES['staticfiles']['BACKEND'], s.LOGGING['handlers']['console']['formatter'], "
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, s.DEBUG)",
        DEBUG="false", SECRET_KEY=STRONG_KEY, ALLOWED_HOSTS="itsm.example.com",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-6:] == [
        "whitenoise.storage.CompressedManifestStaticFilesStorage", "json", "True", "True", "31536000", "False",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "value"), [("LOG_FORMAT", "xml"), ("CACHE_URL", "memcached://x"), ("API_RATE_USER", "fast")]
)
def test_bad_log_format_cache_url_or_api_rate_names_the_setting(name, value):
    result = manage("check", DEBUG="true", **{name: value})
    assert result.returncode != 0
    assert name in result.stderr


def test_gunicorn_takes_its_workers_from_the_environment_and_writes_no_access_log(monkeypatch):
    import runpy

    monkeypatch.setenv("WEB_WORKERS", "3")
    monkeypatch.setenv("BIND", "0.0.0.0:9000")
    conf = runpy.run_path(str(ROOT / "config" / "gunicorn.conf.py"))
    assert conf["workers"] == 3
    assert conf["bind"] == ["0.0.0.0:9000"]
    assert conf["accesslog"] is None
    assert conf["wsgi_app"] == "config.wsgi:application"


PG_URL = "postgres://user@db.example.com:5432/itsm"


def test_postgresql_prepares_repeated_queries_on_kept_connections_unless_told_off():
    """Prepared statements (server-side binding, after five runs on a connection) by default when
    connections are kept; off with a connection per request (they would die with it) and for a
    pooler that cannot keep them; SQLite is left alone."""
    options = "DATABASES['default']['OPTIONS']"
    on = _setting(options, DATABASE_URL=PG_URL, CONN_MAX_AGE="60")
    assert "'server_side_binding': True" in on and "'prepare_threshold': 5" in on
    assert "server_side_binding" not in _setting(options, DATABASE_URL=PG_URL)
    assert "'prepare_threshold': 1" in _setting(options, DATABASE_URL=PG_URL, DB_PREPARE_THRESHOLD="1")
    off = _setting(options, DATABASE_URL=PG_URL, CONN_MAX_AGE="60", DB_PREPARE_THRESHOLD="off")
    assert "server_side_binding" not in off and "prepare_threshold" not in off
    sqlite = _setting(options, DATABASE_URL="sqlite:///x.sqlite3", CONN_MAX_AGE="60")
    assert "server_side_binding" not in sqlite


def test_a_bad_prepare_threshold_names_the_setting():
    result = manage("check", DEBUG="true", DATABASE_URL=PG_URL, DB_PREPARE_THRESHOLD="sometimes")
    assert result.returncode != 0
    assert "DB_PREPARE_THRESHOLD" in result.stderr


def test_kept_connections_are_checked_before_reuse_and_a_bad_age_names_the_setting():
    kept = _setting("DATABASES['default']", DATABASE_URL=PG_URL, CONN_MAX_AGE="60")
    assert "'CONN_MAX_AGE': 60" in kept and "'CONN_HEALTH_CHECKS': True" in kept
    assert "'CONN_HEALTH_CHECKS': False" in _setting("DATABASES['default']", DATABASE_URL=PG_URL)
    result = manage("check", DEBUG="true", CONN_MAX_AGE="forever")
    assert result.returncode != 0
    assert "CONN_MAX_AGE" in result.stderr
