"""E-mail over SMTP (the standard library's smtplib and email), with a text and an HTML body.

The bodies come from the templates in `mail_templates/` (`<name>.txt` and `<name>.html`, in
string.Template's syntax: `$reset_url`); the values put into the HTML one are escaped. The
connection follows the settings: SMTP_HOST and SMTP_PORT; SMTP_TLS `none`, `starttls` (the
connection is upgraded before anything is said) or `ssl` (TLS from the start); a login with
SMTP_USER and SMTP_PASSWORD when SMTP_USER is set; EMAIL_FROM as the sender.

Mail goes out after the response (or from the Celery worker), so a mail server that cannot be
reached never fails a request: `send` logs it (`email_failed`, with the kind of error, never a
password, a token or the message) and returns False.
"""

import smtplib
import ssl
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from html import escape
from importlib.resources import files
from string import Template

import structlog

from example.settings import Settings

log = structlog.get_logger("example.mail")

TEMPLATES = files("example") / "mail_templates"
# A mail server that does not answer holds the sending thread (never a request) this long.
TIMEOUT_SECONDS = 10.0


def render(template: str, values: Mapping[str, str]) -> tuple[str, str]:
    """The text and HTML bodies of `template` with `values` filled in."""
    text = Template((TEMPLATES / f"{template}.txt").read_text(encoding="utf-8"))
    html = Template((TEMPLATES / f"{template}.html").read_text(encoding="utf-8"))
    escaped = {name: escape(value) for name, value in values.items()}
    return text.substitute(values), html.substitute(escaped)


def compose(
    settings: Settings, to: str, subject: str, template: str, values: Mapping[str, str]
) -> EmailMessage:
    """A message to `to` from EMAIL_FROM: text, with the HTML body as its alternative."""
    text, html = render(template, values)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.email_from
    message["To"] = to
    message["Date"] = formatdate(usegmt=True)
    # The sender's domain, not the machine's name (make_msgid would look that up in the DNS).
    domain = parseaddr(settings.email_from)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def tls_context() -> ssl.SSLContext:
    """What the mail server's certificate is checked against: the system's authorities."""
    return ssl.create_default_context()


@contextmanager
def connect(settings: Settings) -> Iterator[smtplib.SMTP]:
    """A connection to the mail server, secured and logged in as the settings say."""
    host, port = settings.smtp_host, settings.smtp_port
    if settings.smtp_tls == "ssl":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            host, port, timeout=TIMEOUT_SECONDS, context=tls_context()
        )
    else:
        smtp = smtplib.SMTP(host, port, timeout=TIMEOUT_SECONDS)
    with smtp:
        if settings.smtp_tls == "starttls":
            smtp.starttls(context=tls_context())
        if settings.smtp_user:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            smtp.login(settings.smtp_user, password)
        yield smtp


def send(settings: Settings, message: EmailMessage) -> bool:
    """Send `message`; False, logged, when the mail server cannot be reached or refuses it."""
    try:
        with connect(settings) as smtp:
            smtp.send_message(message)
    # OSError: refused, unreachable, timed out, a TLS failure; smtplib's errors are OSErrors.
    except OSError as error:
        log.warning(
            "email_failed",
            subject=message["Subject"],
            error=type(error).__name__,
            smtp_host=settings.smtp_host,
            smtp_port=settings.smtp_port,
        )
        return False
    log.info("email_sent", subject=message["Subject"])
    return True
