"""Golden baseline: the exact outputs of fixed small runs, pinned so refactors stay bit-identical.

See README.md in this folder; ``cases`` defines the runs and how their outputs are recorded,
``regenerate`` rewrites the files on purpose.
"""
