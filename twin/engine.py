"""The discrete-event engine: one simpy environment per realization.

**Time inside the engine is hours (float) since the scenario start.**

Processes
---------
- one *hazard process* per hazard field steps through the field's times: it
  samples damage through the asset side's fragility (one uniform draw per asset
  and measure, so damage is monotone in intensity), applies temporary outages
  (flooded roads, tripped feeders) and forced damage from damage maps;
- *crew processes*: each utility has its crews as a ``simpy.PriorityResource``;
  a free crew takes the best job by the repair policy among the jobs it can
  reach on the **current** road graph (closed roads routed around; road crews
  clear roads first), travels, repairs for a duration drawn from the restoration
  table, and the service is recomputed;
- *decisions* (:mod:`twin.actions`): typed injects and decisions, from the
  scenario's ``interventions`` or applied live (:meth:`Engine.apply`); the table
  :data:`twin.action_handlers.HANDLERS` dispatches them by type.

After every state change the service is recomputed by the numba kernel
(:mod:`twin.kernels.service`) and :class:`~twin.recorder.Recorder` records the
served fraction of each network and of the system.

The engine can be advanced step by step: ``engine.run(until=24)``, inspect
``engine.snapshot()``, decide (``engine.apply(HoldCrews("water", 2, 12))``), then
``engine.run(until=48)``. A realization is a pure function of (twin, fields,
models, config, rng seed, decisions).

**When a decision acts.** A decision at time *t* acts after everything before *t*
and before anything else at *t* (simpy stops ``run(until=t)`` before the events at
*t*), whether it was scheduled in the scenario or applied live at a pause at *t*.
That is why a drill's decision log, saved as ``interventions``, replays the drill
byte for byte, and why :meth:`Engine.fork` can rebuild any moment by replaying the
log with the same seed.

The house: this module is the kernel loop; the run's mutable arrays are in
:mod:`twin.state`, its constants in :mod:`twin.engine_tables`, the crews in
:mod:`twin.crews`, what it records in :mod:`twin.recorder`, what each decision
does in :mod:`twin.action_handlers`, and the feeder automation (FLISR) in
:mod:`twin.flisr`.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import simpy

from common.i18n import Message
from hazards.base import HazardField, IntensityMeasure
from networks.fragility import AssetModels, sample_damage_states
from networks.kinds import KINDS
from networks.schema import AssetClass, NetworkKind
from twin.actions import Action, ActionError, BackupPower, Decision, Fail, HoldCrews, Preposition
from twin.compile import CLASS_INDEX, NET_INDEX, NETWORKS, Twin
from twin.crews import Crew, CrewPool, CrewStatus
from twin.engine_tables import EngineTables, hazard_plan
from twin.flisr import make_flisr
from twin.kernels.routing import travel_times
from twin.physics.backend import make_backend
from twin.physics.settings import ServiceSettings
from twin.policies import make_policy
from twin.recorder import EV, EVENTS, RealizationResult, Recorder
from twin.self_healing import SelfHealing
from twin.stand_down import calm_finish, calm_start
from twin.state import AssetState, Tanks

__all__ = ["EV", "EVENTS", "Engine", "RealizationResult", "RunConfig", "Snapshot"]


#: Pregnolato et al. (2017): safe speed vs depth, v[km/h] = 0.0009 d^2 - 0.5529 d + 86.9448
#: (d in mm); normalised by the dry speed and floored so travel stays finite below 0.3 m.
_PREG = (0.0009, -0.5529, 86.9448)


def pregnolato_speed_factor(depth_m: np.ndarray) -> np.ndarray:
    d = np.clip(np.nan_to_num(np.asarray(depth_m, dtype=float), nan=0.0), 0.0, 0.3) * 1000.0
    v = _PREG[0] * d * d + _PREG[1] * d + _PREG[2]
    return np.clip(v / _PREG[2], 0.02, 1.0)


@dataclass(frozen=True)
class RunConfig:
    """Per-run settings (hours)."""

    horizon_h: float = 168.0
    #: crews per network kind, in the order of ``NETWORKS``
    crews: tuple[int, ...] = tuple(k.default_crews for k in KINDS)
    mobilisation_h: float = 0.0
    policy: str = "critical_first"
    interventions: tuple[dict | Decision, ...] = ()
    #: the scenario's ``service`` block (connectivity for every network by default)
    service: ServiceSettings = ServiceSettings()
    #: crews wait and pause while the sustained wind at their site is at or above this
    #: (m/s; None: they work through any wind); see :mod:`twin.stand_down`
    stand_down_wind_mps: float | None = None
    #: the kinds whose service makes the system service (None: every kind of the city)
    system_kinds: tuple[str, ...] | None = None
    #: the scenario's ``self_healing`` block (None: no feeder automation); see
    #: :mod:`twin.flisr`
    self_healing: SelfHealing | None = None


@dataclass(frozen=True)
class Snapshot:
    """The state of a run at ``time_h``, for planners inspecting a paused drill."""

    time_h: float
    served: dict[str, float]
    damaged: tuple[str, ...]
    out_of_service: tuple[str, ...]
    pending_jobs: dict[str, int]
    busy_crews: dict[str, int]
    held_crews: dict[str, int] = field(default_factory=dict)
    crews: tuple[CrewView, ...] = ()


@dataclass(frozen=True)
class CrewView:
    """One crew in a snapshot: where it is (road node id) and what it does."""

    name: str
    utility: str
    status: str
    location: str
    job: str | None


class Engine:
    """One realization of a scenario on a twin (see module docstring)."""

    def __init__(self, twin: Twin, fields: Sequence[HazardField], models: AssetModels,
                 config: RunConfig, rng: np.random.Generator) -> None:
        self.twin = twin
        self.fields = list(fields)
        self.models = models
        self.config = config
        self.rng = rng
        self._rng0 = copy.deepcopy(rng)  # the stream's start, for forks
        self.env = simpy.Environment()
        self._kinds = twin.kinds
        self.policy = make_policy(config.policy)
        self.pinned: list[int] = []  # jobs a decision put first, in order
        self.holds: list[list] = [[] for _ in NETWORKS]  # per utility: held slots (requests)
        self.generator = twin.backup_h > 0  # assets with a generator on site
        n = twin.n
        sw = twin.switches
        self.state = AssetState.fresh(n, twin.backup_h, sw.open_edges(n)
                                      if sw is not None and sw.normally_open.any() else None)
        tanks = np.nonzero(twin.asset_class == CLASS_INDEX[AssetClass.TANK])[0]
        if config.service.water == "pressure_driven":
            # the hydraulics drain and fill the tanks (twin.physics), not a fixed storage_h
            tanks = tanks[:0]
        self.tanks = Tanks.full(tanks, twin.storage_h[tanks])
        self._tank_ok = np.ones(len(tanks), dtype=bool)  # feeding, as last recomputed
        self.edge_time_h = twin.travel_h  # current road travel times (floods slow roads)
        self.tables = EngineTables.build(twin, models)
        self.first_damage = self.env.event()
        self.recorder = Recorder()
        self.service = make_backend(twin, config.service)  # how service is computed
        # draws are made up front, in a fixed order, so the stream does not depend on timing
        self._draws = [{m: rng.random(n) for m in sorted(f.intensity, key=lambda x: x.value)}
                       for f in self.fields]
        self._forced_u = [rng.random(len(f.forced.site)) for f in self.fields]
        self._plans = [hazard_plan(twin, models, f) for f in self.fields]
        self._wake = [self.env.event() for _ in NETWORKS]
        #: the kinds whose service makes a block's system service (the scenario may narrow)
        self._system_kinds = np.array([k for k in self._kinds if config.system_kinds is None
                                       or NETWORKS[k].value in config.system_kinds], dtype=int)
        self._system_cols = [c for c, k in enumerate(self._kinds) if k in self._system_kinds]
        # crews per kind (a config written for fewer kinds: none for the later ones)
        crews = tuple(config.crews) + (0,) * (len(NETWORKS) - len(config.crews))
        self.crew_res = [CrewPool(self.env, capacity=max(c, 1)) for c in crews]
        depots = self.tables.depots
        self.crews: list[Crew] = []
        for k, count in enumerate(crews):
            if k not in self._kinds:
                continue  # a kind the city does not have: nothing to repair
            for j in range(count):
                self.add_crew(Crew(f"{NETWORKS[k].value}-crew-{j + 1:02d}", k, depots[k]))
        for i, f in enumerate(self.fields):
            self.env.process(self._hazard(i, f))
        #: every decision applied so far, in order, with its time (the decision log)
        self.decisions: list[Decision] = []
        #: what each decision did (a short note per entry of ``decisions``; ``str()`` is
        #: the English, :meth:`~common.i18n.Message.render` another language)
        self.notes: list[Message] = []
        self._pending = sorted(self._scheduled(config.interventions),
                               key=lambda d: d.time_h)  # stable: same-time keep their order
        self.flisr = make_flisr(self)  # feeder automation (None without self_healing)
        self._physics_token = 0  # the latest tank-level appointment (physics service)
        self._windy: dict[int, tuple | None] = {}  # stand-down series per job site
        self._recompute()

    # ------------------------------------------------------------------ public API
    @property
    def now(self) -> float:
        return float(self.env.now)

    @property
    def damage(self) -> np.ndarray:
        """Damage state index per component now (0 = undamaged); read-only view."""
        v = self.state.damage.view()
        v.flags.writeable = False
        return v

    def _scheduled(self, interventions) -> list[Decision]:
        """The config's decisions as records, each checked against the twin up front."""
        from twin.action_handlers import checked_decisions

        return checked_decisions(self.twin, interventions)

    @property
    def horizon_h(self) -> float:
        return float(self.config.horizon_h)

    def run(self, until: float | None = None) -> None:
        """Advance to ``until`` hours (default: the horizon), applying the scheduled
        decisions on the way. Going back in time or past the horizon is refused."""
        t = self.horizon_h if until is None else until
        if isinstance(t, bool) or not isinstance(t, int | float) or not np.isfinite(t):
            raise ActionError(Message("err_until_not_finite", value=t), where="run")
        t = float(t)
        if t < self.env.now:
            raise ActionError(Message("err_until_before_now", t=t, now=self.now), where="run")
        if t > self.horizon_h + 1e-9:
            raise ActionError(Message("err_until_past_horizon", t=t, horizon=self.horizon_h),
                              where="run")
        while self._pending and self._pending[0].time_h <= t:
            d = self._pending.pop(0)
            if d.time_h > self.env.now:
                self.env.run(until=d.time_h)
            self._apply(d.action, d.by)
        if t > self.env.now:
            self.env.run(until=t)

    def next_event_h(self) -> float:
        """Time of the next scheduled event or decision (``inf`` when none is left)."""
        nxt = self.env.peek()
        if self._pending:
            nxt = min(nxt, self._pending[0].time_h)
        return float(nxt)

    def apply(self, action: Action, *, by: str = "api") -> Message:
        """Apply ``action`` now, record it in :attr:`decisions`, and return a short note
        of what it did (``str(note)`` is English; the drill renders it in its language).
        A decision that cannot apply raises :class:`ActionError` and changes nothing."""
        if not isinstance(action, Action):
            raise ActionError(Message("err_not_an_action", value=action), where="apply")
        self.run(self.now)  # decisions scheduled for now go first
        return self._apply(action, by)

    def _apply(self, action: Action, by: str) -> Message:
        from twin.action_handlers import HANDLERS

        try:
            note = HANDLERS[type(action)](self, action)
        except ActionError as e:
            raise ActionError(Message("at_time", t=self.now, text=e.text)) from None
        self.decisions.append(Decision(self.now, action, by))
        self.notes.append(note)
        return note

    def fork(self, at: float | None = None) -> Engine:
        """A new engine in the state this one had at ``at`` (default: now): the same
        inputs and seed with the decisions made up to ``at`` replayed, so it is
        identical to this run up to ``at``. Decisions this run took or scheduled
        after ``at`` stay scheduled in the fork; continue it with other decisions."""
        at = self.now if at is None else float(at)
        if not 0 <= at <= self.now:
            raise ActionError(Message("err_fork_time", now=self.now, t=at), where="fork")
        return self.replayed(at, (*self.decisions, *self._pending))

    def replayed(self, at: float, log: Sequence[Decision]) -> Engine:
        """A new engine with this one's inputs and seed and the decision log ``log``
        (every other setting of the config kept), advanced to ``at``."""
        cfg = replace(self.config, interventions=tuple(sorted(log, key=lambda d: d.time_h)))
        other = Engine(self.twin, self.fields, self.models, cfg, self.initial_rng())
        other.run(at)
        return other

    def initial_rng(self) -> np.random.Generator:
        """A copy of the random generator as this run started (forks replay from it)."""
        return copy.deepcopy(self._rng0)

    def drop_scheduled(self, keep) -> list[Decision]:
        """Remove the scheduled decisions for which ``keep(decision)`` is false; return them."""
        gone = [d for d in self._pending if not keep(d)]
        self._pending = [d for d in self._pending if keep(d)]
        return gone

    @property
    def scheduled(self) -> tuple[Decision, ...]:
        """Decisions scheduled for later, in the order they will act."""
        return tuple(self._pending)

    # the planner's classic moves, as calls (each builds a record and applies it)
    def fail(self, asset_id: str, damage_state: str = "complete") -> Message:
        """Damage an asset now (a planner's injected event)."""
        return self.apply(Fail((asset_id,), damage_state))

    def hold_crews(self, utility: str, count: int, duration_h: float) -> Message:
        """Hold ``count`` crews of a utility back for ``duration_h`` from now."""
        return self.apply(HoldCrews(utility, count, duration_h))

    def backup_power(self, asset_ids: Sequence[str], hours: float) -> Message:
        """Stage generators: each asset may run ``hours`` more without grid power."""
        return self.apply(BackupPower(tuple(asset_ids), hours))

    def preposition(self, utility: str, count: int, road_nodes: Sequence[str]) -> Message:
        """Stage crews at road nodes before the hazard (:class:`~twin.actions.Preposition`)."""
        return self.apply(Preposition(utility, count, tuple(road_nodes)))

    def add_crew(self, crew: Crew, *, arrived: bool = False) -> None:
        """Put a crew on the roster and start its process (``arrived``: it does not wait
        for the first damage or the mobilisation delay, as mutual aid on site)."""
        self.crews.append(crew)
        self.env.process(self._crew(crew.utility, crew, len(self.crews) - 1, arrived=arrived))

    def held(self, k: int) -> int:
        """Crew slots of utility ``k`` held back by decisions now."""
        return len(self.holds[k])

    @property
    def crew_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.crews)

    def busy_crews(self, k: int) -> int:
        """Crews of utility ``k`` travelling to or repairing a job."""
        return sum(c.utility == k and c.job >= 0 for c in self.crews)

    def snapshot(self) -> Snapshot:
        """The state now: served fractions, damaged and out-of-service assets, crews."""
        st = self.state
        t = self.twin
        q = self.recorder.served_now
        up = self._up()
        pend = {NETWORKS[k].value: int(np.sum((st.damage > 0) & (t.network == k)))
                for k in t.kinds}
        return Snapshot(self.now, {name: float(q[s]) for s, name in t.series()},
                        tuple(t.ids[st.damage > 0]),
                        tuple(t.ids[~up | (st.served <= 0) & ~t.is_edge]),
                        pend, {NETWORKS[k].value: self.busy_crews(k) for k in t.kinds},
                        {NETWORKS[k].value: self.held(k) for k in t.kinds},
                        tuple(CrewView(c.name, NETWORKS[c.utility].value, str(c.status),
                                       str(t.ids[c.location]),
                                       str(t.ids[c.job]) if c.job >= 0 else None)
                              for c in self.crews))

    def result(self) -> RealizationResult:
        """The realization's record up to now."""
        res = self.recorder.result(self.crew_names)
        if self.service.stats:  # physics: islands solved, reused, fallen back
            res.extra["service"] = dict(self.service.stats)
        return res

    # ------------------------------------------------------------------ internals
    def _log(self, comps: np.ndarray, event: str, crew: int = -1) -> None:
        self.recorder.event(self.now, comps, event, crew)

    def _up(self) -> np.ndarray:
        return self.state.up(self.env.now)

    def _damage(self, comps: np.ndarray, ds: np.ndarray) -> None:
        st = self.state
        worse = ds > st.damage[comps]
        comps, ds = comps[worse], ds[worse]
        if not len(comps):
            return
        # an asset hit again while a crew works on it keeps the crew's job; the extra
        # damage is costed now and repaired with it
        inc = self.tables.cost_usd[comps, ds] - self.tables.cost_usd[comps, st.damage[comps]]
        st.damage[comps] = ds
        self._log(comps, "damaged")
        self.recorder.cost(self.now, float(inc.sum()))
        if not self.first_damage.triggered:
            self.first_damage.succeed()

    def _hazard(self, fi: int, f: HazardField):
        st = self.state
        t = self.twin
        forced = f.forced
        applied = np.zeros(len(forced.site), dtype=bool)
        for ti, th in enumerate(f.times_h):
            if th > self.env.now:
                yield self.env.timeout(th - self.env.now)
            for m, items in self._plans[fi].items():
                im = f.intensity[m][ti]
                for kind, obj, idx in items:
                    v = im[idx]
                    if kind == "curve":
                        if not np.any(v > 0):
                            continue
                        p = obj.exceedance(v, t.length_m[idx])
                        ds = sample_damage_states(p, obj.states, self._draws[fi][m][idx])
                        self._damage(idx, ds)
                    else:
                        wet = np.nan_to_num(v, nan=0.0) >= obj.threshold
                        was = st.outage_until[idx] == np.inf
                        new_out = idx[wet & ~was]
                        dry = idx[~wet & was]
                        st.outage_until[new_out] = np.inf
                        self._log(new_out[st.damage[new_out] == 0], "outage")
                        if len(dry):
                            back = self.env.now + obj.restore_delay_h
                            st.outage_until[dry] = back
                            self.env.process(self._reopen(back, dry))
                if m == IntensityMeasure.FLOOD_DEPTH_M:
                    # travel_h is inf off the road edges, so the factor only acts on roads
                    self.edge_time_h = t.travel_h / pregnolato_speed_factor(im)
            due = ~applied & (forced.time_h <= th + 1e-9)
            if due.any():
                hit = due & (self._forced_u[fi] < forced.probability)
                applied |= due
                sites = forced.site[hit]
                self._damage(sites.astype(np.int64), forced.damage_state[hit].astype(np.int8))
            self._recompute()
            self._notify()
        yield from self._hazard_over(fi, f)

    def _hazard_over(self, fi: int, f: HazardField):
        """A field covers its time span: its last frame holds for one more step, then the
        hazard has passed. Temporary outages it caused end after their restore delays
        (damage stays until repaired); roads regain their speed."""
        st = self.state
        t = f.times_h
        if not len(t) or not any(kind == "outage" for items in self._plans[fi].values()
                                 for kind, *_ in items):
            return
        step = float(t[-1] - t[-2]) if len(t) > 1 else 0.0
        end = float(t[-1]) + step
        if end > self.env.now:
            yield self.env.timeout(end - self.env.now)
        for m, items in self._plans[fi].items():
            for kind, rule, idx in items:
                if kind != "outage":
                    continue
                wet = idx[st.outage_until[idx] == np.inf]
                if len(wet):
                    back = self.env.now + rule.restore_delay_h
                    st.outage_until[wet] = back
                    self.env.process(self._reopen(back, wet))
            if m == IntensityMeasure.FLOOD_DEPTH_M:
                self.edge_time_h = self.twin.travel_h
        self._recompute()
        self._notify()

    def _reopen(self, at: float, comps: np.ndarray):
        st = self.state
        yield self.env.timeout(max(at - self.env.now, 0.0))
        back = comps[(st.outage_until[comps] <= self.env.now) & (st.damage[comps] == 0)]
        if len(back):
            self._log(back, "restored")
            self._recompute()
        # reopened roads can make waiting jobs reachable: wake idle crews in any case
        self._notify()

    def _notify(self) -> None:
        for k in range(len(NETWORKS)):
            ev = self._wake[k]
            self._wake[k] = self.env.event()
            ev.succeed()

    def _pick(self, k: int, loc: int):
        st = self.state
        t = self.twin
        jobs = np.nonzero((st.damage > 0) & ~st.claimed & (t.network == k)
                          & (st.outage_until != np.inf))[0]
        if not len(jobs):
            return None
        passable = self._up()
        road_edge = t.is_edge[jobs] & (t.network[jobs] == NET_INDEX[NetworkKind.ROADS])
        acc = t.access_node[jobs]
        target = np.zeros(t.n, dtype=bool)
        target[acc[~road_edge]] = True
        target[t.edge_u[jobs[road_edge]]] = True
        target[t.edge_v[jobs[road_edge]]] = True
        dist = travel_times(loc, passable, self.edge_time_h, t.adj_indptr, t.adj_node, t.adj_edge,
                            target, int(target.sum()))
        tt = np.where(road_edge, np.minimum(dist[t.edge_u[jobs]], dist[t.edge_v[jobs]]),
                      dist[acc])
        # a non-road job needs its access node open; a road job is cleared from its doorstep
        is_road = t.network[jobs] == NET_INDEX[NetworkKind.ROADS]
        tt = np.where(is_road | passable[acc], tt, np.inf)
        ok = np.isfinite(tt)
        if not ok.any():
            return None
        jobs, tt = jobs[ok], tt[ok]
        ds = st.damage[jobs]
        rep = self.tables.repair_mean_h[t.asset_class[jobs], ds - 1]
        s = self.policy.scores(t, jobs, tt, rep, t.impact[jobs])
        b = int(np.argmin(s))
        if self.pinned:  # a decision put these first, in the order pinned
            rank = {j: r for r, j in enumerate(self.pinned)}
            hits = [(rank[int(j)], p) for p, j in enumerate(jobs) if int(j) in rank]
            if hits:
                b = min(hits)[1]
        job = int(jobs[b])
        if t.is_edge[job] and t.network[job] == NET_INDEX[NetworkKind.ROADS]:
            dest = int(t.edge_u[job] if dist[t.edge_u[job]] <= dist[t.edge_v[job]]
                       else t.edge_v[job])
        else:
            dest = int(acc[b])
        return job, float(tt[b]), dest

    def _crew(self, k: int, crew: Crew, who: int, *, arrived: bool = False):
        """A crew's life; ``who`` is its code in the event log (its roster index)."""
        st = self.state
        res = self.crew_res[k]
        if not arrived:
            yield self.first_damage
            if self.config.mobilisation_h > 0 and not crew.staged:
                yield self.env.timeout(self.config.mobilisation_h)
        crew.status = CrewStatus.IDLE
        while True:
            req = res.request(priority=1)
            yield req
            pick = self._pick(k, crew.location)
            while pick is None:
                res.release(req)
                yield self._wake[k]
                req = res.request(priority=1)
                yield req
                pick = self._pick(k, crew.location)
            job, travel_h, dest = pick
            st.claimed[job] = True
            crew.job, crew.status = job, CrewStatus.TRAVELLING
            self._log(np.array([job]), "crew_dispatched", who)
            if travel_h > 0:
                yield self.env.timeout(travel_h)
            ci, ds = int(self.twin.asset_class[job]), int(st.damage[job])
            tab = self.tables
            mean, sd = tab.repair_mean_h[ci, ds - 1], tab.repair_sd_h[ci, ds - 1]
            work_h = max(0.1 * mean, self.rng.normal(mean, sd))
            wind = self._windy_at(job)
            if wind is not None:  # stand down while the wind at the site is too strong
                start = calm_start(self.env.now, *wind)
                if start > self.env.now:
                    crew.status = CrewStatus.WAITING
                    yield self.env.timeout(start - self.env.now)
            crew.status = CrewStatus.REPAIRING
            self._log(np.array([job]), "repair_started", who)
            end = (self.env.now + work_h if wind is None
                   else calm_finish(self.env.now, work_h, *wind))
            yield self.env.timeout(end - self.env.now)
            st.damage[job] = 0
            st.claimed[job] = False
            crew.job, crew.status, crew.location = -1, CrewStatus.IDLE, dest
            self._log(np.array([job]), "restored", who)
            if st.outage_until[job] > self.env.now:
                # repaired but still out of function (flooded, or its restore delay
                # running): say so, so that the views do not show it working
                self._log(np.array([job]), "outage")
            self._recompute()
            self._notify()
            res.release(req)

    def _windy_at(self, site: int) -> tuple[np.ndarray, np.ndarray] | None:
        """(times_h, windy) at ``site`` for the stand-down rule, or None when the rule is
        off or no hazard reports sustained wind there above the limit. Several wind
        fields join on the union of their times (windy when any of them is). Computed
        once per site and run (the fields do not change)."""
        if site not in self._windy:
            self._windy[site] = self._windy_series(site)
        return self._windy[site]

    def _windy_series(self, site: int) -> tuple[np.ndarray, np.ndarray] | None:
        limit = self.config.stand_down_wind_mps
        if limit is None:
            return None
        series = [(f.times_h, f.intensity[IntensityMeasure.SUSTAINED_WIND_MPS][:, site])
                  for f in self.fields if IntensityMeasure.SUSTAINED_WIND_MPS in f.intensity
                  and len(f.times_h)]
        series = [(t, np.nan_to_num(w) >= limit) for t, w in series]
        series = [(t, w) for t, w in series if w.any()]
        if not series:
            return None
        if len(series) == 1:
            return series[0]
        times = np.unique(np.concatenate([t for t, _ in series]))
        windy = np.zeros(len(times), dtype=bool)
        for t, w in series:
            i = np.searchsorted(t, times, side="right") - 1
            step = t[-1] - t[-2] if len(t) > 1 else 1.0
            inside = (i >= 0) & (times < t[-1] + step)
            windy |= inside & w[np.clip(i, 0, len(w) - 1)]
        return times, windy

    def _tank_empty(self, j: int, token: int, at: float):
        yield self.env.timeout(max(at - self.env.now, 0.0))
        if self.tanks.token[j] == token:
            self._recompute()
            self._notify()

    def _service(self, up: np.ndarray, source_ok: np.ndarray):
        st = self.state
        return self.service.compute(up, source_ok, st.on_backup, st.damage, self.env.now)

    def _recompute(self) -> None:
        if self.flisr is not None:  # trips and switching first: service sees the result
            self.flisr.on_change()
        st = self.state
        t = self.twin
        now = self.env.now
        up = self._up()
        tanks = self.tanks
        tanks.advance(now, t.storage_h[tanks.idx])
        source_ok = np.ones(t.n, dtype=bool)
        source_ok[tanks.idx] = tanks.level_h > 1e-9
        flip = source_ok[tanks.idx] != self._tank_ok
        if flip.any():  # the views read when a tank stopped and started feeding
            now_ok = source_ok[tanks.idx]
            self._log(tanks.idx[flip & ~now_ok], "ran_dry")
            self._log(tanks.idx[flip & now_ok], "refilled")
            self._tank_ok = now_ok
        served, deps_ok, fed_all, _ = self._service(up, source_ok)
        # backup generators: assets that just lost a dependency run on fuel while it lasts
        lost = ~deps_ok & ~st.on_backup & (st.backup_left > 1e-9)
        regained = deps_ok & st.on_backup
        if regained.any():
            st.backup_left[regained] -= now - st.backup_since[regained]
            st.on_backup[regained] = False
        if lost.any():
            st.on_backup[lost] = True
            st.backup_since[lost] = now
            for i in np.nonzero(lost)[0]:
                self.env.process(self._fuel_out(int(i), now + st.backup_left[i]))
            served, deps_ok, fed_all, _ = self._service(up, source_ok)
        if len(tanks.idx):
            # a tank refills when its island also holds a treatment plant
            fed = fed_all[tanks.idx]
            start = ~fed & tanks.fed
            tanks.fed = fed
            for j in np.nonzero(start & (tanks.level_h > 0))[0]:
                tanks.token[j] += 1
                self.env.process(self._tank_empty(int(j), int(tanks.token[j]),
                                                  now + tanks.level_h[j]))
            tanks.token[fed] += 1
        # cascade events: assets that work but lost (or regained) a dependency
        # (an asset on backup power works; it fails by cascade when the fuel runs out)
        has_dep = self.tables.has_dep
        working = deps_ok | st.on_backup
        newly_bad = has_dep & up & ~working & st.working
        newly_ok = has_dep & up & working & ~st.working
        self._log(np.nonzero(newly_bad)[0], "cascade_failed")
        self._log(np.nonzero(newly_ok)[0], "restored")
        st.working = working
        st.served = served
        # one column per kind of the city (Twin.series), then the system
        q = np.empty(len(self._kinds) + 1)
        for c, k in enumerate(self._kinds):
            q[c] = float(self.tables.weights[k] @ served)
        if len(t.block_population):
            s = t.block_served(served, self._system_kinds)
            q[-1] = float(s @ t.block_population / max(t.block_population.sum(), 1e-12))
        else:
            q[-1] = float(q[self._system_cols].mean())
        self.recorder.service(now, q)
        self._schedule_physics_change(now)

    def _schedule_physics_change(self, now: float) -> None:
        """With service by physics, a tank may reach its minimum or maximum level between
        other events (it drains by the hydraulics): recompute then. Each recomputation
        replaces the previous appointment (a token); connectivity runs have none."""
        nxt = getattr(self.service, "next_change_h", None)
        if nxt is None:
            return
        at = float(nxt())
        self._physics_token += 1
        if now + 1e-9 < at < self.config.horizon_h:
            self.env.process(self._physics_change(self._physics_token, at))

    def _physics_change(self, token: int, at: float):
        yield self.env.timeout(at - self.env.now)
        if token == self._physics_token:
            self._recompute()
            self._notify()

    def _fuel_out(self, i: int, at: float):
        st = self.state
        yield self.env.timeout(max(at - self.env.now, 0.0))
        if st.on_backup[i] and abs(st.backup_since[i] + st.backup_left[i] - self.env.now) < 1e-6:
            st.backup_left[i] = 0.0
            st.on_backup[i] = False
            self._recompute()
            self._notify()
