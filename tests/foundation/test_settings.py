import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_django(args, **env):
    # A minimal environment: nothing the test process set for itself leaks into the child.
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "DATABASE_URL"}
    clean = {k: v for k, v in os.environ.items() if k in keep}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_refuses_to_start_without_secret_key_when_debug_is_off():
    result = run_django(["check"], DJANGO_SETTINGS_MODULE="config.settings.base", DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_settings_pass_check_deploy_without_warnings():
    result = run_django(
        ["check", "--deploy", "--fail-level", "WARNING"],
        DJANGO_SETTINGS_MODULE="config.settings.base",
        DEBUG="0",
        SECRET_KEY="a-long-random-production-secret-key-1234567890-abcdefghijklmnop",
        ALLOWED_HOSTS="help.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_development_settings_start_without_secret_key():
    result = run_django(["check"], DJANGO_SETTINGS_MODULE="config.settings.dev")
    assert result.returncode == 0, result.stderr
