"""The clinic's settings: every environment variable it reads, with its default, in one object.

`get_settings()` is the one reading point: the environment parsed once, and again only when one of the
variables below changes (tests change the environment between runs). A function that takes `environ`
(a mapping standing for the environment, in tests) reads it through `get_settings(environ)`. No other
module of clinic/ or actions/ touches `os.environ` (tests/unit/test_settings.py checks).

Each field names its variable (`env=`); the README's tables list them all, with these defaults (checked by
the same test). Values are read as the shell gives them: most are stripped, and empty means the default.

    python -m clinic.config --export   # `export NAME=value` lines for the shell (scripts/env.sh)
    python -m clinic.config --get NAME # one value
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

from pydantic import BaseSettings, Field, validator
from pydantic.env_settings import SettingsSourceCallable

PROJECT_ROOT = Path(__file__).resolve().parents[1]

logger = logging.getLogger("clinic.config")

SWITCH = {"1": True, "true": True, "yes": True, "on": True,
          "0": False, "false": False, "no": False, "off": False}
REST_CHANNEL_OFF = frozenset({"off", "false", "0", "no", "disabled"})
DEFAULT_MAX_MESSAGE_CHARS = 2000
# What the shell scripts use themselves or hand to processes that read the environment on their own (Rasa
# fills endpoints.yml's ${...} from it): `--export` prints these, scripts/env.sh evals them.
SHELL_EXPORTS = (
    "ACTION_SERVER_HOST", "RASA_PORT", "ACTION_SERVER_PORT", "ACTION_ENDPOINT_URL", "TRACKER_STORE_URL",
    "LOCK_STORE_URL", "WEB_PORT", "DATABASE_URL", "CLINIC_PHONE_REGION", "RASA_URL", "RASA_CORS",
)
# Not settings: switches for the libraries of every process the scripts start.
SHELL_CONSTANTS = {"SQLALCHEMY_SILENCE_UBER_WARNING": "1"}


@dataclass(frozen=True)
class StaffSettings:
    """The staff console's secrets, lifetimes and the stores it reads (`Settings.staff()`)."""

    secret_key: str
    session_minutes: int
    # None: Secure unless the console is served on localhost (decided per request by its host).
    cookie_secure: Optional[bool]
    database_url: str
    tracker_store_url: str
    rasa_url: str
    rasa_auth_token: str
    # Password checks (argon2, 64 MiB and ~0.1 s each) run at once per process; more get 503 at once.
    password_checks: int = 4
    # The inbox reloads itself this often (a meta refresh: the console runs no script).
    inbox_refresh_seconds: int = 30

    @classmethod
    def from_env(cls) -> StaffSettings:
        """The console's settings now; an unset STAFF_SECRET_KEY gets a throw-away one (with a warning)."""
        return get_settings().staff()


@dataclass(frozen=True)
class TwilioSettings:
    """Twilio configuration (`Settings.twilio()`, when Rasa starts; unset = the channel refuses all)."""

    account_sid: str = ""
    auth_token: str = ""
    number: str = ""
    webhook_url: str = ""
    api_base_url: str = ""
    timeout: float = 10.0
    attempts: int = 3

    @classmethod
    def from_env(cls, overrides: Optional[Dict[str, Any]] = None) -> TwilioSettings:
        """Settings from TWILIO_* variables; non-empty `overrides` (credentials.yml values) win."""
        return get_settings().twilio(overrides)

    @property
    def can_verify(self) -> bool:
        """Webhook signatures can be checked (an auth token is configured)."""
        return bool(self.auth_token)

    @property
    def can_send(self) -> bool:
        """Proactive messages can be sent (account, token and sending number are configured)."""
        return bool(self.account_sid and self.auth_token and self.number)


# Most values are stripped, and empty (or only spaces) means the default; these are read as given: a rate
# limit that is empty is off (Rate.parse), MAX_REQUEST_BYTES must be a number.
_AS_GIVEN = frozenset({
    "rate_limit_per_sender", "rate_limit_per_ip", "rate_limit_unsigned_per_ip", "rate_limit_trusted_proxies",
    "rest_channel", "max_request_bytes",
})
# Whole numbers above 0, else the default (a typo does not stop the console).
_POSITIVE_OR_DEFAULT = (
    "staff_session_minutes", "staff_password_checks", "staff_inbox_refresh_seconds",
)
# Numbers, else the default.
_NUMBER_OR_DEFAULT = ("max_message_chars", "action_timeout_seconds")


class Settings(BaseSettings):
    """Everything the clinic reads from the environment (one field per variable, named by `env=`)."""

    # --- stores ---------------------------------------------------------------------------------------
    database_url: str = Field(f"sqlite:///{PROJECT_ROOT / 'var' / 'clinic.db'}", env="DATABASE_URL")
    tracker_store_url: str = Field(
        f"sqlite:///{PROJECT_ROOT / 'var' / 'tracker.db'}", env="TRACKER_STORE_URL"
    )
    # Empty: in memory (one Rasa process); redis://host:6379/1 when several Rasa servers share the work.
    lock_store_url: str = Field("", env="LOCK_STORE_URL")

    # --- the Rasa server ------------------------------------------------------------------------------
    rasa_port: int = Field(5005, env="RASA_PORT")
    rasa_url: str = Field("", env="RASA_URL")  # empty: http://localhost:RASA_PORT
    rasa_auth_token: str = Field("", env="RASA_AUTH_TOKEN", repr=False)
    rasa_auth_token_file: str = Field("", env="RASA_AUTH_TOKEN_FILE")
    # Rasa as browsers reach it (the chat widget); empty: the web page's own host on RASA_URL's port.
    rasa_public_url: str = Field("", env="RASA_PUBLIC_URL")
    web_port: int = Field(8000, env="WEB_PORT")
    # Origins (space-separated) whose pages may talk to Rasa from a browser: Rasa's --cors.
    rasa_cors: str = Field("", env="RASA_CORS")  # empty: http://localhost:WEB_PORT http://127.0.0.1:WEB_PORT

    # --- the action server ----------------------------------------------------------------------------
    action_server_host: str = Field("127.0.0.1", env="ACTION_SERVER_HOST")
    action_server_port: int = Field(5055, env="ACTION_SERVER_PORT")
    action_endpoint_url: str = Field("", env="ACTION_ENDPOINT_URL")  # empty: on 127.0.0.1:ACTION_SERVER_PORT
    action_server_token: str = Field("", env="ACTION_SERVER_TOKEN", repr=False)
    action_server_token_file: str = Field("", env="ACTION_SERVER_TOKEN_FILE")

    # --- the Rasa server's guards (clinic.hardening) --------------------------------------------------
    rate_limit_per_sender: str = Field("30/60", env="RATE_LIMIT_PER_SENDER")  # "" or "0": off
    rate_limit_per_ip: str = Field("600/60", env="RATE_LIMIT_PER_IP")
    rate_limit_unsigned_per_ip: str = Field("20/60", env="RATE_LIMIT_UNSIGNED_PER_IP")
    # Empty: the Redis LOCK_STORE_URL if set, else in process; memory/local/off: in process.
    rate_limit_store_url: str = Field("", env="RATE_LIMIT_STORE_URL")
    rate_limit_trusted_proxies: str = Field("", env="RATE_LIMIT_TRUSTED_PROXIES")  # comma-separated
    max_message_chars: int = Field(DEFAULT_MAX_MESSAGE_CHARS, env="MAX_MESSAGE_CHARS")
    max_request_bytes: int = Field(256 * 1024, env="MAX_REQUEST_BYTES")
    action_timeout_seconds: float = Field(10.0, env="ACTION_TIMEOUT_SECONDS")

    # --- channels -------------------------------------------------------------------------------------
    rest_channel: str = Field("on", env="REST_CHANNEL")  # off/false/0/no/disabled: no REST channel
    # Signs the widget's session ids; empty: a key derived from RASA_AUTH_TOKEN.
    widget_session_secret: str = Field("", env="WIDGET_SESSION_SECRET", repr=False)
    twilio_account_sid: str = Field("", env="TWILIO_ACCOUNT_SID")
    twilio_auth_token: str = Field("", env="TWILIO_AUTH_TOKEN", repr=False)
    twilio_number: str = Field("", env="TWILIO_NUMBER")
    twilio_webhook_url: str = Field("", env="TWILIO_WEBHOOK_URL")
    twilio_api_base_url: str = Field("", env="TWILIO_API_BASE_URL")
    twilio_timeout_seconds: float = Field(10.0, env="TWILIO_TIMEOUT_SECONDS")
    twilio_send_attempts: int = Field(3, env="TWILIO_SEND_ATTEMPTS")

    # --- booking --------------------------------------------------------------------------------------
    clinic_schedule_file: Path = Field(PROJECT_ROOT / "config" / "clinic.yml", env="CLINIC_SCHEDULE_FILE")
    clinic_phone_region: str = Field("GB", env="CLINIC_PHONE_REGION")  # how numbers without +CC are read

    # --- after the booking (issue 16): reminders, e-mail, the outbox worker ----------------------------
    reminder_hours_before: float = Field(24.0, env="REMINDER_HOURS_BEFORE")
    # smtp://host:port, smtp+starttls://user:pass@host:587, smtps://...; empty: no e-mail
    smtp_url: str = Field("", env="SMTP_URL")
    email_from: str = Field("Vitawell Clinic <bookings@vitawell.example>", env="CLINIC_EMAIL_FROM")
    outbox_max_attempts: int = Field(5, env="OUTBOX_MAX_ATTEMPTS")
    # A claim older than this was a worker that died mid-send.
    outbox_claim_timeout_seconds: int = Field(300, env="OUTBOX_CLAIM_TIMEOUT_SECONDS")
    worker_poll_seconds: float = Field(10.0, env="WORKER_POLL_SECONDS")
    # A freed time offered to a waitlisted patient is held this long.
    waitlist_hold_minutes: int = Field(30, env="WAITLIST_HOLD_MINUTES")

    # --- the staff console ----------------------------------------------------------------------------
    # Signs cookies, derives conversation keys; empty: a throw-away key per process.
    staff_secret_key: str = Field("", env="STAFF_SECRET_KEY", repr=False)
    staff_session_minutes: int = Field(480, env="STAFF_SESSION_MINUTES")
    staff_cookie_secure: Optional[bool] = Field(None, env="STAFF_COOKIE_SECURE")  # see SWITCH; else None
    staff_password_checks: int = Field(4, env="STAFF_PASSWORD_CHECKS")
    staff_inbox_refresh_seconds: int = Field(30, env="STAFF_INBOX_REFRESH_SECONDS")
    # The largest request body the web app reads (chunked bodies included); larger ones get 413.
    web_max_body_bytes: int = Field(64 * 1024, env="WEB_MAX_BODY_BYTES")

    class Config:
        """Variables by their exact names; the settings never change once read."""

        case_sensitive = True
        frozen = True

        @classmethod
        def customise_sources(
            cls, init_settings: SettingsSourceCallable, env_settings: SettingsSourceCallable,
            file_secret_settings: SettingsSourceCallable,
        ) -> Tuple[SettingsSourceCallable, ...]:
            """Only what `from_env` hands over: the environment, or a mapping standing for it."""
            return (init_settings,)

    # --- reading ------------------------------------------------------------------------------------------

    @classmethod
    def variables(cls) -> Dict[str, str]:
        """Every variable, with the field it sets."""
        return dict(_VARIABLES)

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None) -> Settings:
        """Read the settings now, from `environ` (default: this process's environment)."""
        environ = os.environ if environ is None else environ
        # Strings, which the validators below turn into each field's type.
        given: Dict[str, Any] = {
            name: environ[variable] for variable, name in _VARIABLES.items() if variable in environ
        }
        return cls(**given)

    @validator("*", pre=True)
    def _blank_is_default(cls, value: Any, field: Any) -> Any:
        if field.name in _AS_GIVEN or not isinstance(value, str):
            return value
        return value.strip() or field.get_default()

    @validator(*_POSITIVE_OR_DEFAULT, pre=True)
    def _positive_or_default(cls, value: Any, field: Any) -> Any:
        text = str(value).strip()
        return int(text) if text.isdigit() and int(text) > 0 else field.get_default()

    @validator(*_NUMBER_OR_DEFAULT, pre=True)
    def _number_or_default(cls, value: Any, field: Any) -> Any:
        try:
            number = float(value or field.get_default())
            return int(number) if field.type_ is int else number
        except ValueError:
            return field.get_default()

    @validator("staff_cookie_secure", pre=True)
    def _switch(cls, value: Any) -> Optional[bool]:
        if value is None or isinstance(value, bool):
            return value
        return SWITCH.get(str(value).strip().lower())

    @validator("outbox_max_attempts", "waitlist_hold_minutes", "twilio_send_attempts")
    def _at_least_one(cls, value: int) -> int:
        return max(1, value)

    @validator("outbox_claim_timeout_seconds")
    def _at_least_30(cls, value: int) -> int:
        return max(30, value)

    @validator("worker_poll_seconds")
    def _at_least_half_a_second(cls, value: float) -> float:
        return max(0.5, value)

    @validator("clinic_phone_region")
    def _upper(cls, value: str) -> str:
        return value.upper()

    @validator("rasa_url", always=True)
    def _rasa_url(cls, value: str, values: Dict[str, Any]) -> str:
        return value or f"http://localhost:{values.get('rasa_port', 5005)}"

    @validator("rasa_cors", always=True)
    def _rasa_cors(cls, value: str, values: Dict[str, Any]) -> str:
        port = values.get("web_port", 8000)
        return value or f"http://localhost:{port} http://127.0.0.1:{port}"

    @validator("action_endpoint_url", always=True)
    def _action_endpoint_url(cls, value: str, values: Dict[str, Any]) -> str:
        return value or f"http://127.0.0.1:{values.get('action_server_port', 5055)}/webhook"

    # --- derived values and the sub-groups' views ---------------------------------------------------------

    @property
    def rest_channel_enabled(self) -> bool:
        """Whether REST_CHANNEL leaves the REST channel on."""
        return self.rest_channel.strip().lower() not in REST_CHANNEL_OFF

    @property
    def trusted_proxies(self) -> List[str]:
        """RATE_LIMIT_TRUSTED_PROXIES: addresses whose X-Forwarded-For names the client."""
        return [p.strip() for p in self.rate_limit_trusted_proxies.split(",") if p.strip()]

    def staff(self) -> StaffSettings:
        """The console's settings; an unset STAFF_SECRET_KEY gets a throw-away key (with a warning)."""
        secret = self.staff_secret_key
        if not secret:
            secret = secrets.token_urlsafe(32)
            logger.warning("STAFF_SECRET_KEY is not set: staff sessions end when the web app restarts.")
        return StaffSettings(
            secret_key=secret,
            session_minutes=self.staff_session_minutes,
            cookie_secure=self.staff_cookie_secure,
            password_checks=self.staff_password_checks,
            inbox_refresh_seconds=self.staff_inbox_refresh_seconds,
            database_url=self.database_url,
            tracker_store_url=self.tracker_store_url,
            rasa_url=self.rasa_url,
            rasa_auth_token=self.rasa_auth_token,
        )

    def twilio(self, overrides: Optional[Dict[str, Any]] = None) -> TwilioSettings:
        """Twilio's settings; non-empty `overrides` (credentials.yml values) win over TWILIO_* variables."""
        given = {k: v for k, v in (overrides or {}).items() if v not in (None, "")}
        return TwilioSettings(
            account_sid=str(given.get("account_sid", self.twilio_account_sid)),
            auth_token=str(given.get("auth_token", self.twilio_auth_token)),
            number=str(given.get("twilio_number", self.twilio_number)),
            webhook_url=str(given.get("webhook_url", self.twilio_webhook_url)),
            api_base_url=str(given.get("api_base_url", self.twilio_api_base_url)),
            timeout=float(given.get("timeout", self.twilio_timeout_seconds)),
            attempts=max(1, int(given.get("attempts", self.twilio_send_attempts))),
        )

    def value(self, variable: str) -> str:
        """The variable's value as the shell writes it ("" for unset)."""
        value = getattr(self, _VARIABLES[variable])
        return "" if value is None else str(value)


# Variable -> field, in the order of the fields.
_VARIABLES: Dict[str, str] = {f.field_info.extra["env"]: name for name, f in Settings.__fields__.items()}
_current: Optional[Tuple[Tuple[Optional[str], ...], Settings]] = None


def get_settings(environ: Optional[Mapping[str, str]] = None) -> Settings:
    """The settings of this process, parsed again only when a variable changed; of `environ` if given."""
    global _current
    if environ is not None:
        return Settings.from_env(environ)
    seen = tuple(os.environ.get(variable) for variable in _VARIABLES)
    current = _current
    if current is None or current[0] != seen:
        current = _current = (seen, Settings.from_env())
    return current[1]


def child_environment(**overrides: str) -> Dict[str, str]:
    """The environment for a child process: this process's, with `overrides`."""
    return {**os.environ, **overrides}


def set_process_environment(**values: str) -> None:
    """Hand values to a library that reads the environment itself (rasa_sdk's SANIC_HOST)."""
    os.environ.update(values)


def shell_exports(settings: Settings) -> str:
    """`export NAME=value` lines for the shell scripts (SHELL_EXPORTS and SHELL_CONSTANTS)."""
    values = {**{name: settings.value(name) for name in SHELL_EXPORTS}, **SHELL_CONSTANTS}
    return "".join(f"export {name}={shlex.quote(value)}\n" for name, value in values.items())


def main(argv: Optional[List[str]] = None) -> None:
    """`python -m clinic.config --export` / `--get NAME`."""
    parser = argparse.ArgumentParser(description="The clinic's settings, for the shell scripts.")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--export", action="store_true", help="print `export NAME=value` lines (eval them)")
    group.add_argument("--get", metavar="NAME", choices=sorted(_VARIABLES), help="print one value")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except ValueError as error:
        parser.exit(2, f"clinic settings: {error}\n")
    sys.stdout.write(shell_exports(settings) if args.export else settings.value(args.get) + "\n")


if __name__ == "__main__":
    main()
