"""GET /api/v1/users/me: who the bearer of the token is."""

from example.api.blueprint import make_blueprint
from example.deps import BEARER, get_current_user, login_required
from example.models import User
from example.schemas import HTTPError, UserRead

blp = make_blueprint("users", url_prefix="/api/v1/users", description="Users.")


@blp.route("/me")
@blp.doc(security=BEARER)
@login_required
@blp.response(200, UserRead)
@blp.alt_response(401, schema=HTTPError)
def read_me() -> User:
    """The current user."""
    return get_current_user()
