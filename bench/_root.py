"""Imported first (``import _root``) by each benchmark run as a script, ``python bench/X.py``:
Python then puts bench/ first on sys.path, where queue.py and worker.py would shadow the
standard library's queue and our worker package. This swaps it for the repository root, so
``bench.*``, ``worker`` and ``shared`` import as they do in the services."""

import os
import sys
from pathlib import Path

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if p and os.path.abspath(p) != _HERE]
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
