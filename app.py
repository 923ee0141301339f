"""The Flask application factory: gunicorn serves "app:create_app()"."""

from __future__ import annotations

import logging

from flask import Flask

from bot.config import Settings, get_settings, use_settings


def create_app(settings: Settings | None = None) -> Flask:
    """Build the web app: webhooks, health checks, report pages, the console and the CLI."""
    if settings is not None:
        use_settings(settings)
    settings = get_settings()
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    import models  # noqa: F401  (registers the tables)
    from bot.cli import register_commands
    from bot.health import health
    from bot.report_page import report_pages
    from bot.webhooks import webhooks
    from console import csrf
    from console import init_app as init_console

    app = Flask(__name__, instance_path=str(settings.instance_path))
    # Providers post small forms; a huge body is an attack or a mistake.
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    app.register_blueprint(webhooks)
    app.register_blueprint(health)
    app.register_blueprint(report_pages)
    init_console(app, settings)
    # Providers post without a session or a CSRF token: their requests are signed instead.
    csrf.exempt(webhooks)
    register_commands(app)
    if settings.trusted_proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)
    return app
