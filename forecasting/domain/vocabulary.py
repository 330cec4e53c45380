"""The closed vocabulary of event types and the groups forecasts are made for.

Every event in the history has exactly one `event_type` from `EVENT_TYPES`.
`weapons_test` is stored per row (an artillery barrage fired as a drill is a
test; the same guns firing on Yeonpyeong in 2010 were an attack), but each
type has a default that curation and `events add` use when none is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True)
class EventType:
    name: str
    weapons_test_default: bool
    meaning: str


EVENT_TYPES: dict[str, EventType] = {
    t.name: t
    for t in [
        EventType(
            "ballistic_missile",
            True,
            "launch of one or more ballistic missiles of any range (SRBM, MRBM, IRBM, ICBM, SLBM, "
            "and large-calibre rockets that South Korea's JCS classes as ballistic missiles)",
        ),
        EventType("cruise_missile", True, "launch of cruise missiles (strategic, anti-ship, land attack)"),
        EventType(
            "hypersonic_missile", True, "launch announced or assessed as a hypersonic glide or manoeuvring vehicle"
        ),
        EventType("nuclear_test", True, "underground nuclear detonation"),
        EventType("satellite_launch", True, "space launch vehicle carrying a satellite, successful or not"),
        EventType("engine_test", False, "static ground test of a rocket or missile engine (no launch)"),
        EventType("artillery", True, "artillery or multiple-rocket-launcher fire (drills, barrages)"),
        EventType(
            "other_weapon",
            True,
            "other weapons launches and firings: surface-to-air missiles, underwater drones, "
            "mixed tactical weapons tests",
        ),
        EventType(
            "incursion",
            False,
            "crossing of the DMZ, the Northern Limit Line or airspace; infiltration by agents, "
            "submarines, vessels, drones; tunnels",
        ),
        EventType(
            "harassment",
            False,
            "balloons, GPS jamming, loudspeakers, interceptions without fire, demolitions of inter-Korean "
            "roads or buildings and similar pressure without fire at anyone",
        ),
        EventType("armed_clash", False, "exchange of fire, naval battle, shelling of South Korean forces or territory"),
        EventType(
            "attack", False, "terrorism, assassination attempts, hijackings, attacks on aircraft and ships, killings"
        ),
        EventType(
            "nuclear_program",
            False,
            "nuclear programme steps that are not detonations: reactor restarts, NPT withdrawal, "
            "facility disclosures, nuclear-powered submarine unveiling",
        ),
        EventType(
            "military_drill",
            False,
            "large exercises, air drills (even with air-to-ground firing), deployments of forces or launchers, "
            "declarations of zones and sea boundaries; no missile, rocket or artillery test",
        ),
    ]
}


# Groups are the unions of event types that forecasts are made for. "weapons"
# is special: it means every row with weapons_test = true, whatever its type.
class EventGroup(StrEnum):
    """The unions of event types that forecasts are made for (see EVENT_GROUPS)."""

    WEAPONS = "weapons"
    MISSILES = "missiles"
    BALLISTIC = "ballistic"
    CRUISE = "cruise"
    NUCLEAR = "nuclear"
    SATELLITE = "satellite"
    ARTILLERY = "artillery"


WEAPONS_GROUP = EventGroup.WEAPONS
EVENT_GROUPS: dict[EventGroup, tuple[str, ...]] = {
    EventGroup.WEAPONS: tuple(name for name, t in EVENT_TYPES.items() if t.weapons_test_default),
    EventGroup.MISSILES: ("ballistic_missile", "cruise_missile", "hypersonic_missile"),
    EventGroup.BALLISTIC: ("ballistic_missile", "hypersonic_missile"),
    EventGroup.CRUISE: ("cruise_missile",),
    EventGroup.NUCLEAR: ("nuclear_test",),
    EventGroup.SATELLITE: ("satellite_launch",),
    EventGroup.ARTILLERY: ("artillery",),
}


class UnknownEventType(ValueError):
    pass


def resolve_event_types(names: list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """Expand group names and event types, in any union, into a sorted tuple of event types.

    Each name may itself be a comma-separated list (`ballistic,satellite`), as the CLI's `--types` and the API's
    `event_types` both take it. None or an empty list means the weapons group. Raises UnknownEventType on a name
    that is neither a type nor a group.
    """
    names = [part.strip() for name in names or () for part in name.split(",") if part.strip()]
    if not names:
        return tuple(sorted(EVENT_GROUPS[WEAPONS_GROUP]))
    resolved: set[str] = set()
    for name in names:
        if name in EVENT_GROUPS:
            resolved.update(EVENT_GROUPS[EventGroup(name)])
        elif name in EVENT_TYPES:
            resolved.add(name)
        else:
            raise UnknownEventType(
                f"unknown event type or group {name!r}; expected one of: "
                f"{', '.join(list(EVENT_GROUPS) + list(EVENT_TYPES))}"
            )
    return tuple(sorted(resolved))


class Origin(StrEnum):
    """How a stored event came in: `seed` rows mirror seeds/events.csv, `sync` rows the synced CSIS file;
    `import` and `manual` rows are users'."""

    SEED = "seed"
    SYNC = "sync"
    IMPORT = "import"
    MANUAL = "manual"


class CoverageSource(StrEnum):
    """Who vouches that the history is complete through a date (one coverage row each).

    A manually added event is no source: it never extends coverage.
    """

    SEED = "seed"  # the seeds' reference snapshot, through its last day
    SYNC = "sync"  # `provocast events sync`, through the day its file was published (or its last row)
    IMPORT = "import"  # `provocast events import --complete-through DATE`
    CURATOR = "curator"  # `provocast coverage set --through DATE`


class SyncOutcome(StrEnum):
    """How a sync run ended (the `sync_runs.outcome` column and the metrics' label)."""

    CHANGED = "changed"  # the file was merged and the store changed
    UNCHANGED = "unchanged"  # the file was merged and nothing changed
    NOT_MODIFIED = "not_modified"  # the server answered 304: nothing was downloaded
    REFUSED = "refused"  # the file was fetched but refused (HTML, truncated, columns, too many removals)
    FAILED = "failed"  # the file could not be fetched (HTTP error, timeout, too large) or the store failed


class ModelName(StrEnum):
    """Every model a version can hold (one class each in forecasting/models)."""

    CLIMATOLOGY = "climatology"
    TRAILING_YEAR = "trailing_year"
    POISSON_GLM = "poisson_glm"
    NEGBIN_GLM = "negbin_glm"
    NEGBIN_GLM_NO_ELECTION = "negbin_glm_no_election"
    PROPHET = "prophet"
    HAWKES = "hawkes"
    ENSEMBLE = "ensemble"
    DIRECT_WINDOW = "direct_window"
    DIRECT_WINDOW_NO_ELECTION = "direct_window_no_election"


class ChartWindow(StrEnum):
    """The windows an election chart is drawn for: the default window and a few named presets (a bounded set,
    so that every chart can be kept drawn; see service/queries.py for their days)."""

    DEFAULT = "default"
    TWO_WEEKS = "two_weeks"
    QUARTER = "quarter"


class VersionStatus(StrEnum):
    """A model version's place in the registry: at most one is active."""

    CANDIDATE = "candidate"
    ACTIVE = "active"
    RETIRED = "retired"


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
