"""``tinycompress tune``: search compression recipes for a board's budget, each trial measured on the board.

:func:`tune` runs the trials on Ray Tune with Optuna's TPE proposing the
recipes (:mod:`tinycompress.tune.search`) over a search space
(:mod:`tinycompress.tune.space`), and judges them against a
:class:`Budget` (:mod:`tinycompress.tune.budget`).
"""

from tinycompress.tune.budget import OBJECTIVES, Budget
from tinycompress.tune.search import TuneResult, tune
from tinycompress.tune.space import SearchSpace, default_space, load_space

__all__ = ["OBJECTIVES", "Budget", "SearchSpace", "TuneResult", "default_space", "load_space", "tune"]
