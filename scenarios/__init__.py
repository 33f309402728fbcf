"""livesim's bundled scenarios, policy presets (``policies/``) and sweeps (``sweeps/``).

Installed as the package ``livesim_scenarios`` so that they are found through
``importlib.resources`` wherever livesim is installed; see ``sim.bundled``.
"""
