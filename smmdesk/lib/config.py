"""Configuration from the environment: every variable is parsed and checked here.

Problems are collected, not raised one by one, so `smmdesk check` can name every bad variable at once.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

DB_SCHEMES = {"sqlite": "sqlite", "postgres": "postgresql", "postgresql": "postgresql", "pgsql": "postgresql"}
BOOL_TRUE = {"1", "true", "yes", "on"}
BOOL_FALSE = {"0", "false", "no", "off", ""}


class ConfigError(Exception):
    """Bad configuration; each line of `problems` names one variable."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass
class Config:
    data_dir: Path
    debug: bool = False
    secret_key: str = ""
    database: dict = field(default_factory=dict)
    redis_url: str | None = None
    allowed_hosts: list[str] = field(default_factory=list)
    csrf_trusted_origins: list[str] = field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = 8000
    https: bool = False
    admin_path: str = "admin/"
    encryption_keys: list[str] = field(default_factory=list)
    email: dict = field(default_factory=dict)
    allow_private_urls: bool = False
    public_url: str = ""
    inbound_email_domain: str = "localhost"
    telegram_bot_token: str = ""
    telegram_api_url: str = "https://api.telegram.org"
    backup: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def parse_bool(name: str, raw: str | None, default: bool, problems: list[str]) -> bool:
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in BOOL_TRUE:
        return True
    if value in BOOL_FALSE:
        return False
    problems.append(f"{name}: expected true or false, got {raw!r}")
    return default


def parse_port(name: str, raw: str | None, default: int, problems: list[str]) -> int:
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        problems.append(f"{name}: expected a port number 1-65535, got {raw!r}")
        return default
    return int(raw)


def parse_int(name: str, raw: str | None, default: int, low: int, high: int, problems: list[str]) -> int:
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip()
    if not value.isdigit() or not low <= int(value) <= high:
        problems.append(f"{name}: expected a whole number from {low} to {high}, got {raw!r}")
        return default
    return int(value)


# Per process (each `smmdesk web` worker process, each `smmdesk worker`): connections kept open, the most
# it opens, seconds a request waits for one before failing, seconds an idle extra one is kept.
POOL = {"min_size": 2, "max_size": 8, "timeout": 10, "max_idle": 60}


def parse_database_url(url: str, data_dir: Path) -> dict:
    """Turn DATABASE_URL into a Django DATABASES entry; raise ValueError with the reason."""
    if not url:
        return sqlite_database(data_dir / "smmdesk.sqlite3")
    parts = urlsplit(url)
    engine = DB_SCHEMES.get(parts.scheme)
    if engine is None:
        raise ValueError(
            f"unknown scheme {parts.scheme!r}; use postgresql://user@host:5432/name or sqlite:///path"
        )
    if engine == "sqlite":
        path = unquote(parts.path)
        if parts.netloc or not path or path == "/":
            raise ValueError("expected sqlite:////absolute/path.sqlite3 or sqlite:///relative.sqlite3")
        return sqlite_database(Path(path[1:]))
    try:
        port = parts.port
    except ValueError:
        raise ValueError("the port is not a number")
    name = unquote(parts.path.lstrip("/"))
    if not parts.hostname or not name:
        raise ValueError("expected postgresql://user[:password]@host[:port]/database")
    options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname,
        "PORT": str(port or 5432),
        "OPTIONS": {
            "connect_timeout": int(options.pop("connect_timeout", 5)),
            **options,
            "pool": dict(POOL),
        },
        # Connections come from the pool and go back to it after each request or task. Django's own
        # persistent connections belong to a thread, and under ASGI every request runs in a new thread:
        # each request would open a connection and leave it behind until PostgreSQL refused more.
        "CONN_MAX_AGE": 0,
    }


def sqlite_database(path: Path) -> dict:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        # WAL lets the embedded worker write while web requests read.
        "OPTIONS": {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }


def check_redis_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss", "unix"):
        raise ValueError(f"unknown scheme {parts.scheme!r}; use redis://host:6379/0")
    try:
        _ = parts.port
    except ValueError:
        raise ValueError("the port is not a number")
    if parts.scheme != "unix" and not parts.hostname:
        raise ValueError("expected redis://host:6379/0")
    db = parts.path.lstrip("/")
    if db and not db.isdigit():
        raise ValueError(f"the database number must be an integer, got {db!r}")


def read_or_create_secret(path: Path, make) -> str:
    """A secret kept in the data dir, made once on first start so restarts keep sessions and keys."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    # O_EXCL: two processes starting together must not write two different keys.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    return value


def new_fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def load(env: dict | None = None) -> Config:
    env = os.environ if env is None else env
    problems: list[str] = []
    data_dir = Path(env.get("SMMDESK_DATA_DIR") or "./data").expanduser().resolve()
    cfg = Config(data_dir=data_dir, problems=problems)
    cfg.debug = parse_bool("SMMDESK_DEBUG", env.get("SMMDESK_DEBUG"), False, problems)
    cfg.https = parse_bool("SMMDESK_HTTPS", env.get("SMMDESK_HTTPS"), False, problems)
    cfg.allow_private_urls = parse_bool(
        "SMMDESK_ALLOW_PRIVATE_URLS", env.get("SMMDESK_ALLOW_PRIVATE_URLS"), False, problems
    )
    cfg.port = parse_port("PORT", env.get("PORT"), 8000, problems)
    cfg.host = env.get("HOST") or "127.0.0.1"
    try:
        cfg.database = parse_database_url(env.get("DATABASE_URL", ""), data_dir)
    except ValueError as exc:
        problems.append(f"DATABASE_URL: {exc}")
        cfg.database = sqlite_database(data_dir / "smmdesk.sqlite3")
    redis_url = env.get("REDIS_URL") or None
    if redis_url:
        try:
            check_redis_url(redis_url)
            cfg.redis_url = redis_url
        except ValueError as exc:
            problems.append(f"REDIS_URL: {exc}")
    hosts = env.get("SMMDESK_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
    cfg.allowed_hosts = [h.strip() for h in hosts.split(",") if h.strip()]
    origins = env.get("SMMDESK_CSRF_TRUSTED_ORIGINS", "")
    cfg.csrf_trusted_origins = [o.strip() for o in origins.split(",") if o.strip()]
    for origin in cfg.csrf_trusted_origins:
        if not origin.startswith(("http://", "https://")):
            problems.append(f"SMMDESK_CSRF_TRUSTED_ORIGINS: {origin!r} must start with http:// or https://")
    admin_path = env.get("SMMDESK_ADMIN_PATH", "admin/").strip("/")
    if not admin_path or not all(c.isalnum() or c in "-_/" for c in admin_path):
        problems.append("SMMDESK_ADMIN_PATH: use letters, digits, '-', '_' and '/' only")
        admin_path = "admin"
    cfg.admin_path = admin_path + "/"
    cfg.email = load_email(env, problems)
    cfg.public_url = env.get("SMMDESK_PUBLIC_URL", "").rstrip("/")
    if cfg.public_url and not cfg.public_url.startswith(("http://", "https://")):
        problems.append("SMMDESK_PUBLIC_URL: must start with http:// or https://")
    cfg.inbound_email_domain = env.get("SMMDESK_INBOUND_EMAIL_DOMAIN", "") or "localhost"
    cfg.telegram_bot_token = env.get("SMMDESK_TELEGRAM_BOT_TOKEN", "")
    cfg.telegram_api_url = (env.get("SMMDESK_TELEGRAM_API_URL", "") or cfg.telegram_api_url).rstrip("/")
    if not cfg.telegram_api_url.startswith(("http://", "https://")):
        problems.append("SMMDESK_TELEGRAM_API_URL: must start with http:// or https://")
    cfg.backup = load_backup(env, problems)
    if problems:
        return cfg
    try:
        cfg.secret_key = env.get("SMMDESK_SECRET_KEY") or read_or_create_secret(
            data_dir / "secret_key", lambda: secrets.token_urlsafe(50)
        )
        raw_keys = env.get("SMMDESK_ENCRYPTION_KEY") or read_or_create_secret(
            data_dir / "encryption_key", new_fernet_key
        )
    except OSError as exc:
        problems.append(f"SMMDESK_DATA_DIR: cannot write {data_dir}: {exc.strerror}")
        return cfg
    cfg.encryption_keys = [k.strip() for k in raw_keys.split(",") if k.strip()]
    try:
        from cryptography.fernet import Fernet

        for key in cfg.encryption_keys:
            Fernet(key.encode())
    except (ValueError, TypeError):
        problems.append(
            "SMMDESK_ENCRYPTION_KEY: expected comma-separated Fernet keys (32 url-safe base64 bytes)"
        )
    return cfg


def load_email(env, problems: list[str]) -> dict:
    host = env.get("SMMDESK_EMAIL_HOST", "")
    email = {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend"
        if host
        else "django.core.mail.backends.console.EmailBackend",
        "HOST": host or "localhost",
        "PORT": parse_port(
            "SMMDESK_EMAIL_PORT", env.get("SMMDESK_EMAIL_PORT"), 587 if host else 25, problems
        ),
        "USER": env.get("SMMDESK_EMAIL_USER", ""),
        "PASSWORD": env.get("SMMDESK_EMAIL_PASSWORD", ""),
        "USE_TLS": parse_bool("SMMDESK_EMAIL_TLS", env.get("SMMDESK_EMAIL_TLS"), bool(host), problems),
        "FROM": env.get("SMMDESK_EMAIL_FROM", "smmdesk <noreply@localhost>"),
    }
    return email


def load_backup(env, problems: list[str]) -> dict:
    """The scheduled backup: off until SMMDESK_BACKUP_DIR names a folder."""
    folder = env.get("SMMDESK_BACKUP_DIR", "").strip()
    return {
        "DIR": Path(folder).expanduser().resolve() if folder else None,
        "HOUR": parse_int("SMMDESK_BACKUP_HOUR", env.get("SMMDESK_BACKUP_HOUR"), 3, 0, 23, problems),
        "KEEP_DAILY": parse_int(
            "SMMDESK_BACKUP_KEEP_DAILY", env.get("SMMDESK_BACKUP_KEEP_DAILY"), 7, 1, 366, problems
        ),
        "KEEP_WEEKLY": parse_int(
            "SMMDESK_BACKUP_KEEP_WEEKLY", env.get("SMMDESK_BACKUP_KEEP_WEEKLY"), 4, 0, 520, problems
        ),
    }
