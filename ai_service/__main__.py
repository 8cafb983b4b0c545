from shared.service import serve

from .app import create_app
from .config import AiSettings

settings = AiSettings()
serve(create_app(settings), settings)
