"""The pytest plugin as a downstream project meets it: the README's example passes, the marker
and the ini options choose the scenario and the clock, and its fixture names leave a
project's own alone."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_example() -> str:
    """The downstream test file the README shows (the python block starting `# test_portal.py`)."""
    found = re.search(r"```python\n(# test_portal\.py.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert found, "README.md has no ```python block starting with `# test_portal.py`"
    return found.group(1)


def test_the_readme_example_passes(pytester: pytest.Pytester):
    pytester.makepyfile(test_portal=readme_example())
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_the_marker_and_the_ini_options_choose_the_scenario_and_the_clock(pytester: pytest.Pytester):
    pytester.makeini("[pytest]\nmockportal_clock = running\nmockportal_scenario = empty\n")
    pytester.makepyfile(test_choice="""
        import time
        import pytest
        from mockportal.testing import TEST_EPOCH, ControlError

        def test_the_ini_options(mockportal, mockportal_server):
            assert mockportal.url == mockportal_server.url and mockportal_server.clock == "running"
            reading = mockportal.clock()
            assert reading["frozen"] is False and abs(reading["epoch"] - time.time()) < 60
            with pytest.raises(ControlError):
                mockportal.org("org_acme")

        @pytest.mark.mockportal(scenario="demo", clock="frozen")
        def test_the_marker(mockportal, mockportal_server):
            assert mockportal.url != mockportal_server.url
            assert mockportal.now() == TEST_EPOCH and mockportal.org("org_acme")["balanceUsd"] == "142.5"

        @pytest.mark.mockportal(fixture={"orgs": [{"id": "org_tiny", "balanceUsd": "5"}]})
        def test_an_inline_fixture(mockportal):
            assert mockportal.org("org_tiny")["balanceUsd"] == "5"

        @pytest.mark.mockportal(clock="frozen")
        def test_each_test_starts_afresh_a(mockportal):
            mockportal.advance(60)
            mockportal.reset("demo")
            mockportal.edit_org("org_acme", balanceUsd="1")

        @pytest.mark.mockportal(clock="frozen")
        def test_each_test_starts_afresh_b(mockportal):
            assert mockportal.now() == TEST_EPOCH
            with pytest.raises(ControlError):
                mockportal.org("org_acme")
    """)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=5)


def test_a_marker_option_it_does_not_know_is_an_error(pytester: pytest.Pytester):
    pytester.makepyfile(test_typo="""
        import pytest

        @pytest.mark.mockportal(senario="empty")
        def test_typo(mockportal):
            pass
    """)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*takes only*senario*"])


def test_a_projects_own_fixture_names_stand_beside_the_plugins(pytester: pytest.Pytester):
    pytester.makeconftest("""
        import pytest

        @pytest.fixture
        def app():
            return "app"

        @pytest.fixture
        def client(app):
            return "client"

        @pytest.fixture
        def portal():
            return "portal"

        @pytest.fixture(scope="session")
        def server():
            return "server"
    """)
    pytester.makepyfile(test_names="""
        def test_both(app, client, portal, server, mockportal, mockportal_server):
            assert (app, client, portal, server) == ("app", "client", "portal", "server")
            assert mockportal.org("org_acme")["name"] == "Acme Inc"
    """)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
