from shared.service import serve

from .app import create_app
from .config import ReceiverSettings

settings = ReceiverSettings()
serve(create_app(settings), settings)
