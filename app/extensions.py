"""Extension singletons, one per process (FAB-NOTES section 1).

Flask-Babel is not here: Flask-AppBuilder's BabelManager creates and owns it, and
our code uses flask_babel's gettext/lazy_gettext, which find that instance.
The AppBuilder itself is made anew in every create_app() (FAB-NOTES section 10).
"""

from flask_appbuilder import Model
from flask_appbuilder.models.sqla.base import SQLA
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

db = SQLA(model_class=Model)
migrate = Migrate()
csrf = CSRFProtect()
# FAB's security manager would make a Limiter of its own; ours hands it this one.
# One per process: its storage is that of the app initialised last (one app in production).
limiter = Limiter(key_func=get_remote_address)
