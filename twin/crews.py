"""Repair crews: one :class:`Crew` record per crew, and the utility's crew pool.

A crew belongs to one utility (power, water, roads), starts at a road node (its
depot, or a staging node when pre-positioned) and is, at any moment, idle,
travelling to a job or repairing it. The pool of a utility is a
``simpy.PriorityResource`` whose slots are the crews: a crew takes a slot
(priority 1) for each job, and a decision holding crews back takes slots at
priority 0 so the held crews finish their current job and then wait.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import simpy


class CrewStatus(StrEnum):
    """What a crew is doing now (for snapshots and the drill console)."""

    WAITING = "waiting"  # not mobilised yet, or arriving as mutual aid
    IDLE = "idle"  # no job it can reach
    TRAVELLING = "travelling"
    REPAIRING = "repairing"


@dataclass(slots=True)
class Crew:
    """One repair crew.

    ``utility`` is the network index (0 power, 1 water, 2 roads); ``location`` the
    twin index of the road node it stands at (or last left); ``job`` the twin index
    of the asset it works on, -1 when none. ``staged`` crews were pre-positioned and
    skip the mobilisation delay.
    """

    name: str
    utility: int
    location: int
    staged: bool = False
    status: CrewStatus = CrewStatus.WAITING
    job: int = -1


class CrewPool(simpy.PriorityResource):
    """A utility's crews as a simpy resource whose capacity can grow (mutual aid)."""

    def add(self, count: int) -> None:
        """Open ``count`` more slots and let waiting requests take them."""
        self._capacity += count
        self._trigger_put(None)
