"""The config layer: stack configuration in, typed and validated Args out.

``load_settings()`` reads every key Pulumi.yaml declares and hands each component its Args; every
problem is collected (``errors.Problems``) and reported at once, each naming its config key.
Components take these Args and never read ``pulumi.Config`` themselves.
"""
