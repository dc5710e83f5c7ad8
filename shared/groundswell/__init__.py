"""Groundswell: brand-crisis listening, detection and alerting (shared package, shipped as a Lambda layer).

Keep this module import-free: functions import only the submodules they need (cold starts).
"""

__version__ = "0.1.0"
