"""The operators' web console under `/`: sign-in, the simulator, the outbox, teams and health.

Server-rendered (Jinja), a small stylesheet, plain forms; every form carries a CSRF token
(Flask-WTF) and every page but sign-in needs a signed-in operator (console/auth.py)."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Flask, render_template
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError, CSRFProtect

from bot.config import Settings

console = Blueprint(
    "console",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/console/static",
)
csrf = CSRFProtect()
SESSION_LIFETIME = timedelta(hours=12)
WEBHOOKS = "/webhooks/"


class ConsoleSessions(SecureCookieSessionInterface):
    """Signed-cookie sessions for the console's pages; the providers' webhooks get none."""

    def open_session(self, app, request):
        # A provider sends no cookie, and reading one costs a signer on every webhook.
        if request.path.startswith(WEBHOOKS):
            return self.make_null_session(app)
        return super().open_session(app, request)


def init_app(app: Flask, settings: Settings) -> None:
    """Mount the console on the app: its secret, sessions, CSRF protection and pages."""
    from console import auth, pages  # noqa: F401  (registers the views)
    from console.cli import operator
    from console.text import install

    app.config.update(
        SECRET_KEY=settings.session_secret(),
        SESSION_COOKIE_NAME="circlebot_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_base_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
    )
    app.session_interface = ConsoleSessions()
    csrf.init_app(app)
    install(app)
    app.register_blueprint(console)
    app.cli.add_command(operator)

    @app.errorhandler(CSRFError)
    def csrf_refused(error: CSRFError):
        return render_template("console/error.html", title_key="console.csrf_title",
                               text_key="console.csrf_text"), 400  # fmt: skip
