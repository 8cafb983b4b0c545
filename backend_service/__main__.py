from shared.service import serve

from .app import create_app
from .config import BackendSettings

settings = BackendSettings()
serve(create_app(settings), settings)
