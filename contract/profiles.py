"""Hypothesis profiles for the contract suite: `ci` (the default), `thorough`, and `mutation`
(`ci` without shrinking: contract/mutation.py only asks whether a property fails, not why).

Every example is real HTTP against a portal, so there is no deadline (a slow request is not
a bug) and the `ci` budget keeps the whole suite well under two minutes on two cores.
Select the other with `python -m pytest contract --hypothesis-profile=thorough`.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

CI = "ci"
THOROUGH = "thorough"
MUTATION = "mutation"


def register() -> None:
    common = {"deadline": None, "print_blob": True,
              "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}
    settings.register_profile(CI, max_examples=40, stateful_step_count=20, **common)
    settings.register_profile(THOROUGH, max_examples=400, stateful_step_count=50, **common)
    settings.register_profile(MUTATION, max_examples=40, stateful_step_count=20,
                              phases=[Phase.explicit, Phase.reuse, Phase.generate], **common)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", CI))


def examples(weight: float) -> int:
    """This property's share of the active profile's budget: cheap properties take more
    examples (weight > 1), ones that send many requests per example take fewer."""
    return max(5, round(settings.default.max_examples * weight))
