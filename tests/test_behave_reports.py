"""The behave run's JUnit XML, as CI reads it: every time is a real one, including a feature
whose scenarios all sit under `Rule:` (behave 1.3 alone reports such a feature as 0 s)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent
FEATURE = "features/buy.card_outcomes.feature"  # two rules, five scenarios, nothing outside a rule


def test_a_feature_of_rules_reports_real_times(tmp_path):
    assert re.findall(r"^\s*(Rule|Scenario)", (CHECKOUT / FEATURE).read_text(), re.M)[0] == "Rule"
    env = {name: value for name, value in os.environ.items() if name != "HERMES_PORTAL_BASE_URL"}
    run = subprocess.run([sys.executable, "-m", "behave", FEATURE, "--junit", "--junit-directory", str(tmp_path),
                          "--format", "null"], cwd=CHECKOUT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr

    suite = ElementTree.parse(tmp_path / "TESTS-buy.card_outcomes.xml").getroot()
    cases = suite.findall("testcase")
    assert [case.get("status") for case in cases] == ["passed"] * 5
    case_times = [float(case.get("time")) for case in cases]
    assert all(time > 0 for time in case_times), case_times
    # The feature's run holds its scenarios' runs, and their hooks besides.
    assert float(suite.get("time")) >= sum(case_times) > 0, (suite.get("time"), case_times)
    took = re.search(r"Took (\d+)min (\d+\.\d+)s", run.stdout)
    assert took and int(took.group(1)) * 60 + float(took.group(2)) > 0, run.stdout
