"""The admin UI at /admin (Flask-Admin), for active superusers only.

- /admin/login checks an e-mail and password (a Flask-WTF form, so with a CSRF token) against
  the app's one login limit (ratelimit.py: per client address and per account; over it, the
  form again with an error, 429), and starts a session on the server (admin_sessions.py: it
  ends 12 hours after the login, however active); Flask's session cookie, signed with
  SECRET_KEY, HttpOnly, SameSite=Lax and Secure in production, holds only its token.
- /admin/logout is a POST with the CSRF token (the form in every admin page's menu bar): it
  deletes the session on the server, so the old cookie no longer works. A GET logs no one out.
- Anonymous visitors are sent to the login page; any other user than an active superuser
  gets 403 on every admin page (with a logout button).
- The model views use the request's database session (db.py) and Flask-Admin's SecureForm,
  so their create, edit and delete forms carry a CSRF token too.
- Passwords set here are hashed with security.hash_password; the hash is never shown.
- Flask-Admin serves its Bootstrap, jQuery and Font Awesome files itself, from
  /admin/static/: the admin works without internet access.
"""

import warnings
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, TypeVar

import flask_admin
from flask import Flask, g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_admin import Admin, AdminIndexView
from flask_admin.contrib.sqla import ModelView
from flask_admin.form import SecureForm
from flask_admin.helpers import is_safe_url
from flask_admin.theme import Bootstrap4Theme
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from marshmallow import Schema
from marshmallow import ValidationError as SchemaValidationError
from marshmallow.fields import Field as SchemaField
from sqlalchemy import select
from wtforms import Field, Form, PasswordField, StringField
from wtforms.validators import InputRequired, StopValidation, ValidationError

from example import admin_sessions, resources
from example.api.auth import TOO_MANY_ATTEMPTS, login_limiter
from example.database_errors import database_unavailable
from example.db import get_database, get_session
from example.deps import client_address
from example.headers import csp_nonce
from example.models import NUL, User
from example.security import (
    hash_password,
    password_problem,
    verify_password,
)
from example.settings import Settings

# The session key holding the token of the admin session on the server.
ADMIN_SESSION_KEY = "admin_session"

CSRF_FAILED = "The form has expired or was not sent from this site; please try again."
FIELDS_MISSING = "Enter your e-mail address and password."
LOGIN_FAILED = "Incorrect email or password."

# A plain page, in the admin's look, built with markupsafe: every value is escaped
# unless it is already Markup (the form's fields render as Markup).
LOGIN_PAGE = Markup("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Log in - {title}</title>
<link href="{stylesheet}" rel="stylesheet">
</head>
<body class="bg-light">
<main class="container" style="max-width: 26rem">
<h1 class="h4 mt-5 mb-4">{title}</h1>
{error}
<form method="post" action="{action}">
{csrf}
<div class="form-group">{email_label}{email}</div>
<div class="form-group">{password_label}{password}</div>
<button type="submit" class="btn btn-primary">Log in</button>
</form>
</main>
</body>
</html>
""")
ERROR_ALERT = Markup('<div class="alert alert-danger" role="alert">{}</div>')
# Flask-Admin's page shell with a logout button (templates/admin_base.html, the app's own).
BASE_TEMPLATE = "admin_base.html"


View = TypeVar("View", bound=Callable[..., Any])


def expose(url: str, methods: tuple[str, ...] = ("GET",)) -> Callable[[View], View]:
    """Flask-Admin's `expose`, typed (Flask-Admin ships no type hints)."""
    decorator: Callable[[View], View] = flask_admin.expose(url, methods)
    return decorator


class LoginForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF is untyped
    email = StringField("E-mail", validators=[InputRequired()])
    password = PasswordField("Password", validators=[InputRequired()])


class LogoutForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF is untyped
    """No field but the CSRF token."""


def current_admin_user() -> User | None:
    """The active user of this request's admin session, if it has neither ended nor expired
    (looked up once per request)."""
    if "admin_user" not in g:
        token = session.get(ADMIN_SESSION_KEY)
        g.admin_user = (
            get_session().scalar(admin_sessions.user_of(token)) if isinstance(token, str) else None
        )
    admin_user: User | None = g.admin_user
    return admin_user


def _is_superuser() -> bool:
    user = current_admin_user()
    return user is not None and user.is_superuser


def _refuse() -> ResponseReturnValue:
    """Anonymous: to the login page (and back afterwards). Anyone else: 403, with the logout
    form."""
    if current_admin_user() is None:
        return redirect(url_for("admin.login_view", next=request.full_path.rstrip("?")))
    csrf = Markup('<input type="hidden" name="csrf_token" value="{}">').format(generate_csrf())
    page = admin_sessions.FORBIDDEN_PAGE.format(logout=url_for("admin.logout_view"), csrf=csrf)
    return page, 403


class AdminHomeView(AdminIndexView):  # type: ignore[misc]  # Flask-Admin is untyped
    """/admin/, plus the login and logout pages, which are open to everyone."""

    PUBLIC_VIEWS = frozenset({"login_view", "logout_view"})

    def is_accessible(self) -> bool:
        return _is_superuser()

    def inaccessible_callback(self, name: str, **kwargs: Any) -> ResponseReturnValue:
        return _refuse()

    def _handle_view(self, name: str, **kwargs: Any) -> ResponseReturnValue | None:
        if name in self.PUBLIC_VIEWS:
            return None
        result: ResponseReturnValue | None = super()._handle_view(name, **kwargs)
        return result

    @expose("/login", methods=("GET", "POST"))
    def login_view(self) -> ResponseReturnValue:
        form = LoginForm()
        if request.method == "GET":
            return self._login_page(form)
        if not form.validate():
            # A missing or wrong CSRF token, or an empty field.
            error = CSRF_FAILED if "csrf_token" in form.errors else FIELDS_MISSING
            return self._login_page(form, error), 400
        email = form.email.data.strip().lower()
        limiter, client = login_limiter(), client_address()
        retry_after = limiter.admit(client, via="admin")
        if retry_after is None:
            retry_after = limiter.admit_account(email, client, via="admin")
        if retry_after is not None:
            return self._login_page(form, TOO_MANY_ATTEMPTS), 429, {"Retry-After": str(retry_after)}
        db = get_session()
        user: User | None = None
        if NUL not in email:  # no address holds one (nor may a query: database_errors.py)
            user = db.scalar(select(User).where(User.email == email))
        password_ok = verify_password(form.password.data, user.hashed_password if user else None)
        if user is None or not password_ok or not user.is_active:
            limiter.failed(email, client, via="admin")
            return self._login_page(form, LOGIN_FAILED), 401
        token, row, expired = admin_sessions.start(user.id)
        db.execute(expired)
        db.add(row)
        db.commit()
        # A fresh session: nothing from before the login carries over.
        session.clear()
        session[ADMIN_SESSION_KEY] = token
        limiter.succeeded(email, client, via="admin", user_id=user.id)
        target = request.args.get("next", "")
        if not (target.startswith("/admin/") and is_safe_url(target)):
            target = url_for("admin.index")
        return redirect(target)

    @expose("/logout", methods=("POST",))
    def logout_view(self) -> ResponseReturnValue:
        if not LogoutForm().validate():
            return CSRF_FAILED, 400, {"Content-Type": "text/plain; charset=utf-8"}
        token = session.get(ADMIN_SESSION_KEY)
        if isinstance(token, str):
            db = get_session()
            db.execute(admin_sessions.end(token))
            db.commit()
        session.clear()
        return redirect(url_for("admin.login_view"))

    def _login_page(self, form: LoginForm, error: str | None = None) -> str:
        stylesheet = url_for("admin.static", filename="bootstrap/bootstrap4/css/bootstrap.min.css")
        page: str = LOGIN_PAGE.format(
            title=self.admin.name,
            stylesheet=stylesheet,
            error=ERROR_ALERT.format(error) if error else "",
            action=request.full_path.rstrip("?"),
            csrf=form.hidden_tag(),
            email_label=form.email.label(),
            email=form.email(class_="form-control", autocomplete="username", autofocus=True),
            password_label=form.password.label(),
            password=form.password(class_="form-control", autocomplete="current-password"),
        )
        return page


class SuperuserModelView(ModelView):  # type: ignore[misc]  # Flask-Admin is untyped
    """A model view for superusers only, whose forms carry a CSRF token."""

    form_base_class = SecureForm
    can_view_details = True
    page_size = 50

    def is_accessible(self) -> bool:
        return _is_superuser()

    def inaccessible_callback(self, name: str, **kwargs: Any) -> ResponseReturnValue:
        return _refuse()

    def handle_view_exception(self, exc: Exception) -> bool:
        """A database that stops answering while a form is saved is the app's 503 (errors.py),
        not Flask-Admin's "Failed to create record" above the form again."""
        if database_unavailable(exc):
            raise exc
        handled: bool = super().handle_view_exception(exc)
        return handled


class NewPasswordField(PasswordField):  # type: ignore[misc]  # WTForms is untyped
    """A password typed in the clear; UserView stores its hash, never the field itself."""

    def populate_obj(self, obj: Any, name: str) -> None:
        pass


def _no_nul(_form: Form, field: Field) -> None:
    """No text holds a NUL character (models.NUL); checked before the others (the e-mail's
    uniqueness, which would take it to the database)."""
    if isinstance(field.data, str) and NUL in field.data:
        raise StopValidation("Enter text without the NUL character.")


def _api_rule(rule: SchemaField[Any]) -> Callable[[Form, Field], None]:
    def check(_form: Form, field: Field) -> None:
        if field.data is not None:
            try:
                rule.deserialize(field.data)
            except SchemaValidationError as error:  # a field's messages: a list
                raise StopValidation(" ".join(map(str, error.messages))) from None

    return check


def _empty_is_none(value: Any) -> Any:
    return None if value == "" else value


def api_rules(schema: Schema, names: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The `form_args` of a resource's view (`scaffold add resource`): each named field checked
    with the API's own rule (its field in the resource's schema), so that the form refuses
    what the API refuses, with the API's message, rather than leave it to the database
    (PostgreSQL refuses an over-long string or an out-of-range number). An optional field
    left empty is null, as in the API."""
    return {
        name: {
            "validators": [_api_rule(schema.fields[name])],
            "filters": [_empty_is_none] if schema.fields[name].allow_none else [],
        }
        for name in names
    }


USER_COLUMNS = ("id", "email", "is_active", "is_superuser", "created_at")


class UserView(SuperuserModelView):
    # hashed_password is in none of these lists: never listed, shown, exported or searched.
    column_list = USER_COLUMNS
    column_details_list = USER_COLUMNS
    column_export_list = USER_COLUMNS
    column_searchable_list = ("email",)
    column_filters = ("is_active", "is_superuser")
    column_default_sort = "id"
    form_columns = ("email", "password", "is_active", "is_superuser")
    form_args: ClassVar[dict[str, Any]] = {"email": {"validators": [_no_nul]}}
    form_extra_fields: ClassVar[dict[str, Any]] = {
        "password": NewPasswordField(
            "Password", description="Required for a new user; leave empty to keep it unchanged."
        )
    }

    def on_model_change(self, form: Form, model: User, is_created: bool) -> None:
        model.email = model.email.strip().lower()
        if "@" not in model.email:
            raise ValidationError("Enter an e-mail address.")
        password: str | None = form.password.data
        if password:
            problem = password_problem(password)
            if problem is not None:
                raise ValidationError(problem)
            model.hashed_password = hash_password(password)
        elif is_created:
            raise ValidationError("A new user needs a password.")


def init_admin(app: Flask, settings: Settings) -> Admin:
    """Mount the admin on `app`; its session cookie is Flask's, signed with SECRET_KEY."""
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.environment == "production",
    )
    # The CSRF token the page shell's logout form carries.
    app.jinja_env.globals["admin_csrf_token"] = generate_csrf
    admin = Admin(
        app,
        name="Example admin",
        index_view=AdminHomeView(url="/admin"),
        theme=Bootstrap4Theme(base_template=BASE_TEMPLATE),
        # Its templates' inline scripts carry the page's nonce, which the page's
        # Content-Security-Policy names (headers.py).
        csp_nonce_generator=csp_nonce,
    )
    db_session = get_database(app).session
    with warnings.catch_warnings():
        # Flask-Admin 2 would rather have a Flask-SQLAlchemy object than a session, and
        # warns; this project has no Flask-SQLAlchemy, and the scoped session is the
        # request's own (see db.py).
        warnings.filterwarnings(
            "ignore", message="Passing a session object directly", category=DeprecationWarning
        )
        admin.add_view(UserView(User, db_session, name="Users"))
        # The resources' views (the example Item's and `scaffold add resource`'s), by name: see
        # resources/__init__.py.
        for module in resources.modules("admin"):
            module.register(admin, db_session)
    return admin
