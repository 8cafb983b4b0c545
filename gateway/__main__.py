from shared.service import serve

from .app import create_app
from .config import GatewaySettings

settings = GatewaySettings()
serve(create_app(settings), settings)
