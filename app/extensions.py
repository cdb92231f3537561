"""Flask extensions, created unbound here and bound to an app in `create_app`.

Kept out of `app/__init__.py` so that views can import them without importing the factory.
"""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf import CSRFProtect

csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
