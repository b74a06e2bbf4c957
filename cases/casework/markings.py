"""The TLP 2.0 level of each tier, for the exports (README, "Exports"): what only the
owner state reads is RED, what named states or a meeting's participants read is
AMBER+STRICT, what every State Party reads on the portal is AMBER."""

from cases.casework.case import BILATERAL, MEETING, NATIONAL, PORTAL

TIER_TLP = {NATIONAL: "red", BILATERAL: "amber+strict", MEETING: "amber+strict",
            PORTAL: "amber"}
