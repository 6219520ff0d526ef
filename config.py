"""Layered settings: these defaults <- instance/config.py <- environment <- create_app(overrides).

The defaults are the embedded set-up: SQLite in instance/, no Redis (jobs run inline
after commit), the `log` message provider. Production sets DATABASE_URL, REDIS_URL,
SECRET_KEY and PIFA_ENV=production through the environment.
"""

import os
from datetime import timedelta

BASE_DIR = os.path.abspath(os.path.dirname(__file__))

# Production unless told otherwise: a forgotten setting must fail safe, not open.
PIFA_ENV = "production"
# Placeholder that create_app refuses to run with in production.
INSECURE_SECRET_KEY = "insecure-development-key-change-me"  # noqa: S105
SECRET_KEY = INSECURE_SECRET_KEY

SQLALCHEMY_DATABASE_URI = ""  # empty: sqlite:///<instance>/pifa.db (DATABASE_URL overrides)
SQLALCHEMY_TRACK_MODIFICATIONS = False
# A pooled connection that the database dropped (a restart, a failover, an idle timeout,
# pg_terminate_backend) is noticed and replaced before a request uses it.
SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
REDIS_URL = ""  # empty: background jobs run inline after commit
RQ_QUEUE = "pifa"
# The worker's scheduler (app/jobs/scheduler.py), which moves delayed retries to the queue:
# how often it looks, and how long its lock outlives a worker killed without clean-up.
RQ_SCHEDULER_INTERVAL = 1.0  # seconds
RQ_SCHEDULER_LOCK_TTL = 10  # seconds (whole); at least twice the interval plus one

MEDIA_ROOT = ""  # empty: <instance>/media
MEDIA_URL_TTL = 600  # seconds a signed link to a private photo (the API's) stays valid
MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # per file; a larger one is refused on its form
# A whole request. Each file is kept only up to MAX_UPLOAD_BYTES while it is read, so a
# 40 MB photo costs no memory or disk and is refused on the form with what was typed.
MAX_CONTENT_LENGTH = 128 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000

# ---- Messages (README "Messages"). Credentials come from here / the environment only.
SMS_PROVIDER = "log"  # log | aliyun | tencent
WECHAT_PROVIDER = "log"  # log | wechat
MESSAGE_CONNECT_TIMEOUT = 5.0  # seconds; a refused/failed connect is retried
MESSAGE_READ_TIMEOUT = 10.0  # seconds; no answer after sending -> uncertain
MESSAGE_MAX_ATTEMPTS = 6  # "not sent" answers before the message is marked failed
MESSAGE_RETRY_BASE = 30.0  # seconds; backoff = base * 2 ** (attempt - 1), capped
MESSAGE_RETRY_MAX = 3600.0
MESSAGE_SWEEP_AFTER = 120.0  # seconds a due message may wait for its job before the sweep
MESSAGE_SENDING_STALE = 600.0  # seconds "sending" before a vanished worker -> uncertain
# Aliyun SMS (dysmsapi 2017-05-25). The endpoint may be a URL (http:// for a stand-in).
ALIYUN_SMS_ACCESS_KEY_ID = ""
ALIYUN_SMS_ACCESS_KEY_SECRET = ""
ALIYUN_SMS_SIGN_NAME = ""
ALIYUN_SMS_ENDPOINT = "dysmsapi.aliyuncs.com"
# Tencent Cloud SMS (2021-01-11).
TENCENT_SMS_SECRET_ID = ""
TENCENT_SMS_SECRET_KEY = ""
TENCENT_SMS_SDK_APP_ID = ""
TENCENT_SMS_SIGN_NAME = ""
TENCENT_SMS_REGION = "ap-guangzhou"
TENCENT_SMS_ENDPOINT = "sms.tencentcloudapi.com"
# WeChat: the mini program (sign-in, subscribe messages) and the official account (the
# storefront in WeChat's browser, template messages); README "WeChat".
WECHAT_MINIPROGRAM_APP_ID = ""
WECHAT_MINIPROGRAM_APP_SECRET = ""
WECHAT_OFFICIAL_APP_ID = ""
WECHAT_OFFICIAL_APP_SECRET = ""
WECHAT_MESSAGE_KIND = "subscribe"  # subscribe (mini program) | template (official account)
WECHAT_API_BASE = "https://api.weixin.qq.com"
WECHAT_OAUTH_BASE = "https://open.weixin.qq.com/connect"  # where WeChat's browser signs in
WECHAT_MINIPROGRAM_PAGE = "pages/orders/index"  # where a tap on the message opens
# WeChat Pay API v3 (在线支付, app/payments/wechat_pay/; README "WeChat Pay"). Unset: the
# order page says WeChat Pay is not set up. Keys are PEM text or the path of a PEM file;
# public-key mode (PUBLIC_KEY + PUBLIC_KEY_ID) or certificate mode (CERT_DIR).
WECHATPAY_MCHID = ""
WECHATPAY_APIV3_KEY = ""
WECHATPAY_PRIVATE_KEY = ""
WECHATPAY_CERT_SERIAL_NO = ""
WECHATPAY_PUBLIC_KEY = ""
WECHATPAY_PUBLIC_KEY_ID = ""
WECHATPAY_CERT_DIR = ""
WECHATPAY_NOTIFY_URL = ""  # https://<host>/pay/wechat/notify
WECHATPAY_REFUND_NOTIFY_URL = ""  # https://<host>/pay/wechat/refund-notify
WECHATPAY_API_BASE = "https://api.mch.weixin.qq.com"
WECHATPAY_TIMEOUT = 15.0  # seconds to wait for an answer
# 出库签收单 PDF: reportlab's built-in STSong-Light, or a TrueType (.ttf) font by path.
PDF_FONT_PATH = ""
DEFAULT_PROVINCE = "海南省"  # first address of a new member (the distributor's province)
PASSWORD_HASH_METHOD = "scrypt"  # noqa: S105  (a method name, not a password)

# Rate limits (Flask-Limiter), counted in RATELIMIT_STORAGE_URI, or in Redis at REDIS_URL.
# Production refuses to start with neither: counts in each web worker's memory would let
# an attacker try passwords once per worker. In memory only in development and tests.
RATELIMIT_ENABLED = True
RATELIMIT_STORAGE_URI = ""
RATELIMIT_HEADERS_ENABLED = False
# Redis down must not take sign-in down: fall back to per-process counting.
RATELIMIT_SWALLOW_ERRORS = True
RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
# Failed sign-ins: strict per account (from anywhere); loose per IP, so that one person
# guessing on a shop's Wi-Fi or a carrier's shared address cannot lock out the office.
LIMIT_SIGN_IN_PER_ACCOUNT = "10 per 15 minutes"
LIMIT_SIGN_IN_PER_IP = "200 per 15 minutes"
LIMIT_CODE_PER_PHONE = "5 per hour"
LIMIT_CODE_PER_IP = "20 per hour"

# Flask-AppBuilder
APP_NAME = "Pifa"
AUTH_TYPE = 1  # AUTH_DB
AUTH_ROLE_ADMIN = "Admin"
AUTH_ROLE_PUBLIC = "Public"
FAB_CREATE_DB = False  # Alembic owns the schema (FAB-NOTES section 5)
FAB_UPDATE_PERMS = False  # `flask pifa sync-roles` writes permissions
FAB_SECURITY_MANAGER_CLASS = "app.platform.security.PifaSecurityManager"
FAB_INDEX_VIEW = "app.views.admin.index.AdminIndexView"
FAB_BASE_TEMPLATE = "admin/base.html"
FAB_ADD_SECURITY_API = False
FAB_API_SWAGGER_UI = False

# Languages: Chinese first; FAB's own catalog uses `zh`.
BABEL_DEFAULT_LOCALE = "zh"
BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
BABEL_TRANSLATION_DIRECTORIES = os.path.join(BASE_DIR, "translations")
LANGUAGES = {
    "zh": {"flag": "cn", "name": "中文"},
    "en": {"flag": "gb", "name": "English"},
}

# Cookies: HttpOnly and SameSite always; Secure in production (set in create_app).
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = None  # None: Secure when PIFA_ENV is production
SESSION_COOKIE_SAMESITE = "Lax"
REMEMBER_COOKIE_HTTPONLY = True
REMEMBER_COOKIE_SAMESITE = "Lax"
WTF_CSRF_TIME_LIMIT = None

# Environment variables read on top of the files, and how to parse them.
ENV_KEYS = {
    "PIFA_ENV": str,
    "SECRET_KEY": str,
    "DATABASE_URL": str,
    "REDIS_URL": str,
    "RQ_QUEUE": str,
    "RATELIMIT_STORAGE_URI": str,
    "RQ_SCHEDULER_INTERVAL": float,
    "RQ_SCHEDULER_LOCK_TTL": int,
    "MEDIA_ROOT": str,
    "MEDIA_URL_TTL": int,
    "SMS_PROVIDER": str,
    "WECHAT_PROVIDER": str,
    "MESSAGE_CONNECT_TIMEOUT": float,
    "MESSAGE_READ_TIMEOUT": float,
    "MESSAGE_MAX_ATTEMPTS": int,
    "MESSAGE_RETRY_BASE": float,
    "MESSAGE_RETRY_MAX": float,
    "MESSAGE_SWEEP_AFTER": float,
    "MESSAGE_SENDING_STALE": float,
    "ALIYUN_SMS_ACCESS_KEY_ID": str,
    "ALIYUN_SMS_ACCESS_KEY_SECRET": str,
    "ALIYUN_SMS_SIGN_NAME": str,
    "ALIYUN_SMS_ENDPOINT": str,
    "TENCENT_SMS_SECRET_ID": str,
    "TENCENT_SMS_SECRET_KEY": str,
    "TENCENT_SMS_SDK_APP_ID": str,
    "TENCENT_SMS_SIGN_NAME": str,
    "TENCENT_SMS_REGION": str,
    "TENCENT_SMS_ENDPOINT": str,
    "WECHAT_MINIPROGRAM_APP_ID": str,
    "WECHAT_MINIPROGRAM_APP_SECRET": str,
    "WECHAT_OFFICIAL_APP_ID": str,
    "WECHAT_OFFICIAL_APP_SECRET": str,
    "WECHAT_OAUTH_BASE": str,
    "WECHAT_MESSAGE_KIND": str,
    "WECHAT_API_BASE": str,
    "WECHAT_MINIPROGRAM_PAGE": str,
    "WECHATPAY_MCHID": str,
    "WECHATPAY_APIV3_KEY": str,
    "WECHATPAY_PRIVATE_KEY": str,
    "WECHATPAY_CERT_SERIAL_NO": str,
    "WECHATPAY_PUBLIC_KEY": str,
    "WECHATPAY_PUBLIC_KEY_ID": str,
    "WECHATPAY_CERT_DIR": str,
    "WECHATPAY_NOTIFY_URL": str,
    "WECHATPAY_REFUND_NOTIFY_URL": str,
    "WECHATPAY_API_BASE": str,
    "WECHATPAY_TIMEOUT": float,
    "PDF_FONT_PATH": str,
    "SESSION_COOKIE_SECURE": lambda v: v.lower() in ("1", "true", "yes"),
}

# API tokens (app/platform/tokens.py): short-lived access, refresh until sign-out.
JWT_ACCESS_TOKEN_EXPIRES = timedelta(minutes=15)
JWT_REFRESH_TOKEN_EXPIRES = timedelta(days=30)
JWT_TOKEN_LOCATION = ["headers"]
