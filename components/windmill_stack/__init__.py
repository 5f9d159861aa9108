"""The Docker-hosted Windmill stack: the component (``component.py``) and its Caddyfile (``caddyfile.py``).

Its Args and their parser live in ``components.config.windmill_stack``.
"""

from .caddyfile import render_caddyfile
from .component import WindmillStack

__all__ = ["WindmillStack", "render_caddyfile"]
