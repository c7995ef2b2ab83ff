"""Project-wide hl-testkit settings: scrub one more field than the defaults."""

import pytest

from hl_testkit.secrets import ScrubRules


@pytest.fixture(scope="module")
def hl_scrub_rules(hl_scrub_rules: ScrubRules) -> ScrubRules:
    return hl_scrub_rules.extended(field_names=["customer_email"])
