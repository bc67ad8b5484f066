"""E-mail over SMTP (the standard library's smtplib and email), with a text and an HTML body.

The bodies come from the templates in `mail_templates/` (`<name>.txt` and `<name>.html`, in
string.Template's syntax: `$reset_url`); the values put into the HTML one are escaped. The
connection follows the settings: SMTP_HOST and SMTP_PORT; SMTP_TLS `none`, `starttls` (the
connection is upgraded before anything is said) or `ssl` (TLS from the start); a login with
SMTP_USER and SMTP_PASSWORD when SMTP_USER is set; EMAIL_FROM as the sender.

Mail goes out after the response (or from the Celery worker), so a mail server that cannot be
reached never fails a request: `send` logs it (`email_failed`, with the kind of error, never a
password, a token or the message) and returns False. Without Celery, the request hands the
sending to the process's mail thread (`send_later`), so a mail server that is slow or does not
answer (up to TIMEOUT_SECONDS per message) holds up no request thread and no event loop.
"""

import queue
import smtplib
import ssl
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from html import escape
from importlib.resources import files
from string import Template

from example.logging_config import get_logger
from example.settings import Settings

log = get_logger("example.mail")

TEMPLATES = files("example") / "mail_templates"
# A mail server that does not answer holds the sending thread (never a request) this long.
TIMEOUT_SECONDS = 10.0
# At most this many e-mails wait for the mail thread; past it, one is dropped (logged): a mail
# server that does not answer cannot make a process keep every message asked for in memory.
MAX_PENDING = 100


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


class Outbox:
    """One thread of the process that runs what it is handed (sending e-mail), in order.

    It starts on first use, in the process that uses it (a worker, not the server's master),
    and is a daemon: e-mail still waiting when the process stops is not sent, and a mail
    server that does not answer never delays a shutdown.
    """

    def __init__(self, max_pending: int = MAX_PENDING) -> None:
        self._jobs: queue.Queue[Callable[[], object]] = queue.Queue(max_pending)
        self._start = threading.Lock()
        self._thread: threading.Thread | None = None

    def put(self, job: Callable[[], object]) -> bool:
        """Hand `job` over without waiting; False, logged, when MAX_PENDING already wait."""
        self._running()
        try:
            self._jobs.put_nowait(job)
        except queue.Full:
            log.warning("email_dropped", pending=self._jobs.maxsize)
            return False
        return True

    def flush(self, timeout: float) -> bool:
        """Whether everything handed over before has run, waiting up to `timeout` seconds."""
        self._running()
        done = threading.Event()
        try:
            self._jobs.put(done.set, timeout=timeout)
        except queue.Full:
            return False
        return done.wait(timeout)

    def _running(self) -> None:
        with self._start:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="mail", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                job()
            except Exception:  # one failed job (a database error) stops none of the next
                log.exception("email_job_failed")


outbox = Outbox()


def send_later(job: Callable[[], object]) -> bool:
    """Run `job` (which sends e-mail) in the mail thread, after what was handed over before."""
    return outbox.put(job)
