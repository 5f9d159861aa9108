"""Windmill on Kubernetes: the Helm release of the official chart (``component.py``) and its values (``values.py``).

Its Args are the Docker runtime's (``components.config.windmill_stack``, ``runtime: kubernetes``).
"""

from .component import WindmillKubernetes
from .values import chart_values

__all__ = ["WindmillKubernetes", "chart_values"]
