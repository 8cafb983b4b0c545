from shared.service import serve

from .app import create_app
from .config import RateLimitSettings

settings = RateLimitSettings()
serve(create_app(settings), settings)
