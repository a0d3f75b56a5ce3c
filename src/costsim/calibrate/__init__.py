"""Calibration: fit a costsim traffic to a request log, and project a pilot to production.

- :func:`read_log` reads and validates a log (DataFrame, CSV, JSON lines or
  arrays; presets for common exports);
- :func:`fit_traffic` fits token distributions (family by AIC, caps as point
  masses, generalized Pareto tails, physical limits: :mod:`.tails`), the
  prompt cache's steady state, warm-up and TTL where the log has prefix hashes
  or sessions (:mod:`.caching`), conversations as session classes where the
  log has session ids (:mod:`.sessions`), latent segments that carry the input/output dependence, class
  shares, volume, profile and burstiness, with a block bootstrap of the
  estimation uncertainty, and a goodness-of-fit report (:func:`qq_points` for
  QQ plots);
- :func:`project` turns the fit into production traffic under assumptions
  (volume, growth, mix, horizon), carrying the uncertainty to the trial level;
- :func:`backtest` fits pilot windows of a log, forecasts the rest and scores
  the bands against what the log billed;
- :func:`pilot_gap` compares the naive pilot extrapolation with the simulated
  production cost; :func:`to_scenario` writes the projection as a scenario.
"""

from .arrivals import ArrivalFit, estimate_on_off, fit_arrivals
from .backtest import Backtest, backtest, interval_score
from .caching import CacheFit
from .fit import fit_traffic
from .fitted import ClassFit, TrafficFit
from .logs import TrafficLog, read_log
from .project import PilotGap, pilot_gap, project, to_scenario
from .report import FitReport, qq_points
from .segments import dependence_distance, find_segments
from .sessions import SessionFit
from .tails import Tail
from .tokens import TokenFit, find_pile, fit_tokens, ks_distance

__all__ = [
    "ArrivalFit", "Backtest", "CacheFit", "ClassFit", "FitReport", "PilotGap", "SessionFit", "Tail", "TokenFit", "TrafficFit",
    "TrafficLog", "backtest", "dependence_distance",
    "estimate_on_off",
    "find_pile", "find_segments", "fit_arrivals", "fit_tokens", "fit_traffic", "interval_score", "ks_distance", "pilot_gap", "project",
    "qq_points", "read_log", "to_scenario",
]
