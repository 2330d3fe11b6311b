"""Scoring engine benchmark: a full recompute of one year (issue 5 asks for over 100,000 events/s).

Builds a seeded synthetic year of facts for a province: 2,000 units (the province office, its
departments, 13 cities with about 150 counties each), 20,000 people (ten per unit), about 300,000
facts — ~60% submissions, ~25% adoptions (city/province/central/county level, every publication
kind and form, some combined pieces of 2–3 items, some lead items, forwarded items crediting the
forwarder), ~8% forwards, ~3% instructions, and a few withdrawals, confirmed copies, falsified items
and deductions, with 1–3 co-authors per item. Then scores the year under both demo schemes (with
every county and city assessed for quotas) and prints facts/s (best of 3) and the entries produced.
The facts are passed in time order, as the app reads them; one more run per scheme passes them in
random order (the engine sorts them then). Figures move by ±10% with the load of the machine.

`--snapshot FILE` pickles the entries of both schemes on first use and compares them on later
runs, so an optimisation of the engine can be checked to change no output at all. `--profile`
prints the top of a cProfile of one run per scheme. No Django: the engine is pure.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import pickle
import pstats
import random
import sys
import time
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from baosong.scoring import engine  # noqa: E402
from baosong.scoring.engine import Author, Fact, Source  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
YEAR = engine.year_period(2026, TZ)
CITIES = 13
COUNTIES_PER_CITY = 150
UNITS = 2000
PEOPLE_PER_UNIT = 10
TARGET_FACTS = 300_000

KINDS = ("journal", "bulletin", "website", "wechat", "special")
KIND_WEIGHTS = (40, 20, 20, 10, 10)
FORMS = ("whole", "excerpt", "one_line")
FORM_WEIGHTS = (62, 28, 10)
ITEM_TYPES = ("info", "news", "special")
ITEM_TYPE_WEIGHTS = (75, 20, 5)
ITEM_KINDS = engine.ITEM_KINDS
ITEM_KIND_WEIGHTS = (50, 20, 15, 15)


class Tree:
    """The unit tree: codes, levels, the city above each county."""

    def __init__(self) -> None:
        self.level: dict[str, str] = {"SHENG": "province", "ZHONGYANG": "central"}
        self.parent: dict[str, str] = {}
        self.cities = [f"S{c:02d}" for c in range(1, CITIES + 1)]
        self.counties: list[str] = []
        for city in self.cities:
            self.level[city] = "city"
            self.parent[city] = "SHENG"
            for n in range(1, COUNTIES_PER_CITY + 1):
                county = f"{city}X{n:03d}"
                self.level[county] = "county"
                self.parent[county] = city
                self.counties.append(county)
        departments = UNITS - len(self.level)
        self.departments = [f"SHENG-D{n:02d}" for n in range(1, departments + 1)]
        for dept in self.departments:
            self.level[dept] = "province"
            self.parent[dept] = "SHENG"
        self.people = {
            unit: [f"{unit}-p{n}" for n in range(PEOPLE_PER_UNIT)] for unit in self.level
        }


def build_facts(seed: int = 5, target: int = TARGET_FACTS) -> list[Fact]:
    """A year of facts in time order (as the app reads them from its event tables)."""
    rng = random.Random(seed)
    tree = Tree()
    facts: list[Fact] = []
    serial = 0
    adoption_serial = 0
    year_seconds = int((YEAR.end - YEAR.start).total_seconds())
    last = YEAR.end - dt.timedelta(seconds=1)

    def eid() -> str:
        nonlocal serial
        serial += 1
        return f"ev{serial}"

    def later(when: dt.datetime, days: float) -> dt.datetime:
        return min(last, when + dt.timedelta(seconds=int(rng.expovariate(1 / (days * 86400)))))

    def authors_for(unit: str) -> tuple[Author, ...]:
        names = rng.sample(tree.people[unit], rng.choices((1, 2, 3), (60, 30, 10))[0])
        if len(names) == 1:
            return (Author(names[0], 100),)
        if len(names) == 2:
            first = rng.choice((50, 60, 70))
            return (Author(names[0], first), Author(names[1], 100 - first))
        return (Author(names[0], 40), Author(names[1], 30), Author(names[2], 30))

    # Items waiting to be combined with others adopted by the same unit: adopting unit → items.
    pending: dict[str, list[tuple[int, str, tuple[Author, ...], dt.datetime, str | None]]] = {}

    def adopt(
        common: Fact, unit: str, when: dt.datetime, forwarded_by: str | None, lead: bool = False
    ) -> None:
        """One adoption of the item by `unit` (sometimes held back to combine with others)."""
        nonlocal adoption_serial
        item, origin, authors = common.item_id, common.origin_unit, common.authors
        assert item is not None
        adopting_level = tree.level[unit]
        kind = rng.choices(KINDS, KIND_WEIGHTS)[0]
        if rng.random() < 0.15:
            group = pending.setdefault(unit, [])
            group.append((item, origin, authors, when, forwarded_by))
            if len(group) < rng.choice((2, 3)):
                return
            del pending[unit]
            adoption_serial += 1
            at = later(max(g[3] for g in group), 2)
            sources = tuple(
                Source(g[0], g[1], share, lead_source=n == 0, forwarded_by=g[4])
                for n, (g, share) in enumerate(
                    zip(group, (50, 30, 20) if len(group) == 3 else (60, 40), strict=False)
                )
            )
            for g in group:
                facts.append(
                    Fact(
                        kind="adopt",
                        event_id=eid(),
                        at=at,
                        item_id=g[0],
                        origin_unit=g[1],
                        authors=g[2],
                        adopting_unit=unit,
                        adopting_level=adopting_level,
                        adoption_id=adoption_serial,
                        publication_kind=kind,
                        form="combined",
                        sources=sources,
                    )
                )
            return
        adoption_serial += 1
        at = later(when, 4)
        facts.append(
            common._replace(
                kind="adopt",
                event_id=eid(),
                at=at,
                adopting_unit=unit,
                adopting_level=adopting_level,
                adoption_id=adoption_serial,
                publication_kind=kind,
                form=rng.choices(FORMS, FORM_WEIGHTS)[0],
                is_lead=lead,
                sources=(Source(item, origin, 100, True, forwarded_by),),
            )
        )
        if rng.random() < 0.14:
            facts.append(
                common._replace(
                    kind="instruct",
                    event_id=eid(),
                    at=later(at, 5),
                    adopting_unit=unit,
                    adopting_level=adopting_level,
                    adoption_id=adoption_serial,
                    sources=(Source(item, origin, 100, True),),
                    instruction_level=rng.choice(("city", "province", "province")),
                    principal=rng.random() < 0.3,
                )
            )
        if rng.random() < 0.02:
            facts.append(
                common._replace(
                    kind="unadopt",
                    event_id=eid(),
                    at=later(at, 2),
                    adoption_id=adoption_serial,
                )
            )

    item = 0
    while len(facts) < target:
        item += 1
        origin = (
            rng.choice(tree.counties)
            if rng.random() < 0.85
            else rng.choice(tree.cities + tree.departments)
        )
        level = tree.level[origin]
        authors = authors_for(origin)
        when = YEAR.start + dt.timedelta(seconds=rng.randrange(year_seconds))
        common = Fact(
            kind="submit",
            event_id="",
            at=when,
            item_id=item,
            item_type=rng.choices(ITEM_TYPES, ITEM_TYPE_WEIGHTS)[0],
            item_kind=rng.choices(ITEM_KINDS, ITEM_KIND_WEIGHTS)[0],
            origin_unit=origin,
            authors=authors,
        )
        up = tree.parent[origin]
        facts.append(common._replace(event_id=eid(), to_levels=(tree.level[up],)))
        if rng.random() < 0.04:  # returned and submitted again: earns nothing more
            when = later(when, 3)
            facts.append(common._replace(event_id=eid(), at=when, to_levels=(tree.level[up],)))

        if rng.random() < 0.35:
            adopt(common, up, when, None, lead=rng.random() < 0.08)
        if level == "county" and rng.random() < 0.03:
            adopt(common, origin, when, None)
        if level == "county" and rng.random() < 0.15:  # the city forwards it to the province
            when = later(when, 3)
            facts.append(
                common._replace(
                    kind="forward",
                    event_id=eid(),
                    at=when,
                    adopting_unit=up,
                    adopting_level="city",
                    to_levels=("province",),
                )
            )
            if rng.random() < 0.35:
                adopt(common, "SHENG", when, up, lead=rng.random() < 0.08)
            if rng.random() < 0.06:  # and the province on to the centre
                when = later(when, 5)
                facts.append(
                    common._replace(
                        kind="forward",
                        event_id=eid(),
                        at=when,
                        adopting_unit="SHENG",
                        adopting_level="province",
                        to_levels=("central",),
                    )
                )
                if rng.random() < 0.5:
                    adopt(common, "ZHONGYANG", when, "SHENG")
        elif level != "county" and rng.random() < 0.1:
            adopt(common, "SHENG", when, None)
        roll = rng.random()
        if roll < 0.002:
            facts.append(common._replace(kind="confirmed_copy", event_id=eid(), at=later(when, 20)))
        elif roll < 0.0025:
            facts.append(common._replace(kind="falsified", event_id=eid(), at=later(when, 20)))
        if rng.random() < 0.004:
            facts.append(
                Fact(
                    kind="deduct",
                    event_id=eid(),
                    at=YEAR.start + dt.timedelta(seconds=rng.randrange(year_seconds)),
                    origin_unit=rng.choice(tree.counties),
                    points=engine.q2(rng.choice((1, 2, 5))),
                    note="迟报",
                )
            )
    facts.sort(key=lambda f: (f.at, f.event_id))
    return facts


def assessed_units() -> list[str]:
    tree = Tree()
    return tree.counties + tree.cities


def timed(
    scheme: engine.Scheme, facts: list[Fact], units: list[str], runs: int = 3
) -> tuple[float, int]:
    best = float("inf")
    produced = 0
    for _ in range(runs):
        start = time.perf_counter()
        entries = engine.score(scheme, facts, YEAR, units=units)
        best = min(best, time.perf_counter() - start)
        produced = len(entries)
        del entries
    return best, produced


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--facts", type=int, default=TARGET_FACTS)
    parser.add_argument("--snapshot", type=Path, help="pickle of the entries: write, or compare")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    start = time.perf_counter()
    facts = build_facts(target=args.facts)
    units = assessed_units()
    kinds = Counter(f.kind for f in facts)
    mix = ", ".join(f"{k} {n / len(facts):.1%}" for k, n in kinds.most_common())
    print(f"{len(facts):,} facts ({mix}), built in {time.perf_counter() - start:.1f} s")
    print(f"{len(units):,} assessed units, period {YEAR.key}")
    if args.snapshot:
        scored = {s.version: engine.score(s, facts, YEAR, units=units) for s in engine.DEMO_SCHEMES}
        if args.snapshot.exists():
            expected = pickle.loads(args.snapshot.read_bytes())
            for version, entries in scored.items():
                # Equal values and equal texts (Decimal("5.00") == Decimal("5") but prints apart).
                same = entries == expected[version] and all(
                    str(a.points) == str(b.points)
                    for a, b in zip(entries, expected[version], strict=True)
                )
                print(f"snapshot {version}: {'identical' if same else 'DIFFERENT'}")
                if not same:
                    raise SystemExit(1)
        else:
            args.snapshot.write_bytes(pickle.dumps(scored, protocol=pickle.HIGHEST_PROTOCOL))
            print(f"snapshot written to {args.snapshot}")
    for scheme in engine.DEMO_SCHEMES:
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            engine.score(scheme, facts, YEAR, units=units)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        seconds, count = timed(scheme, facts, units)
        print(
            f"{scheme.version}: {len(facts) / seconds:,.0f} facts/s "
            f"({seconds:.2f} s best of 3), {count:,} entries"
        )
    # The same facts in no particular order (the engine sorts them first), once per scheme.
    shuffled = list(facts)
    random.Random(1).shuffle(shuffled)
    for scheme in engine.DEMO_SCHEMES:
        seconds, _count = timed(scheme, shuffled, units, runs=1)
        print(f"{scheme.version}, facts in random order: {len(facts) / seconds:,.0f} facts/s")


if __name__ == "__main__":
    main()
