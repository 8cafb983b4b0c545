from shared.service import serve

from .app import create_app
from .config import AuthSettings

settings = AuthSettings()
serve(create_app(settings), settings)
