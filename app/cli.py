"""`trendloom` command line: every stage of the loop, and `demo` to run them all."""

from __future__ import annotations

import csv
import json
import math
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import numpy as np
import typer
from threadpoolctl import threadpool_limits
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from generation.concepts.composer import Pins
from generation.concepts.spec import DesignSpec
from generation.errors import GenerationError, TaxonomyError, TrendDataError
from generation.taxonomy import AttributeAddition
from generation.trends.chart import plot_movers, top_movers
from generation.trends.cooccur import post_pairs, series_pairs
from generation.trends.forecast import Forecast, forecast_frame
from generation.trends.frame import SeriesName, TrendFrame
from generation.trends.io import read_trend_csv, write_wide_csv
from generation.trends.mapping import EMBED_THRESHOLD
from generation.trends.posts import map_posts, posts_to_series, read_posts_jsonl
from generation.trends.rising import rank_forecast
from matching.errors import MatchingError
from matching.exposure import POLICIES
from matching.factories.csv_safe import safe_row
from matching.factories.orders import read_orders_csv, write_rows_csv
from matching.factories.planner import MatchPlan
from matching.factories.registry import read_factories_csv
from matching.factories.registry_file import FIELDS as REGISTRY_FIELDS, parse_overrides

from app.batch import embed_texts, executor, render_designs
from app.db import transaction
from app.errors import AppError
from app import lifecycle
from app.lifecycle import DesignState
from app.attacks import make_attackers
from app.models import utcnow
from app.sample import write_sample
from app.services import accounts, catalog
from app.services import designs as design_svc
from app.services.catalog_file import read_text
from app.services import factory_registry, planning, production, trends, wants
from app.services import taxonomy as taxonomy_service
from app.services.status import stage_counts
from app.services.trends import DataEnd
from app.settings import Settings
from app.simulator import BuyerSimulator
from app.web.i18n import catalogue
from app.workspace import Workspace

cli = typer.Typer(help="trendloom: design products from trends, test them with buyers, make the winners.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
trends_cli = typer.Typer(help="Import trend data and see what is rising.", no_args_is_help=True)
designs_cli = typer.Typer(help="Generate, list and publish designs.", no_args_is_help=True)
factories_cli = typer.Typer(help="Import and list the factory registry.", no_args_is_help=True)
users_cli = typer.Typer(help="Accounts: merchandisers, buyers, factories and admins.", no_args_is_help=True)
images_cli = typer.Typer(help="Draw product images with the configured image backend.", no_args_is_help=True)
catalog_cli = typer.Typer(help="Import the product catalogue and its sales; backtest what its sales predict.",
                          no_args_is_help=True)
cli.add_typer(catalog_cli, name="catalog")
text_cli = typer.Typer(help="Read product text (EN/ZH) the way trendloom reads it.", no_args_is_help=True)
taxonomy_cli = typer.Typer(help="The taxonomy: list it, add attributes and words.", no_args_is_help=True)
demand_cli = typer.Typer(help="What buyers asked for and could not find.", no_args_is_help=True)
cli.add_typer(demand_cli, name="demand")
cli.add_typer(text_cli, name="text")
cli.add_typer(taxonomy_cli, name="taxonomy")
cli.add_typer(trends_cli, name="trends")
cli.add_typer(designs_cli, name="designs")
cli.add_typer(factories_cli, name="factories")
cli.add_typer(users_cli, name="users")
cli.add_typer(images_cli, name="images")
console = Console()
RAY_HELP = "run the batch work as Ray tasks on the cluster at ADDRESS ('local': start one on this machine)"


@contextmanager
def workspace() -> Iterator[Workspace]:
    """Open the workspace from the environment; turn expected errors into a message and exit code 1."""
    try:
        ws = Workspace.open(Settings())
    except (GenerationError, MatchingError, AppError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    try:
        yield ws
    except (GenerationError, MatchingError, AppError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    finally:
        ws.close()


def progress() -> Progress:
    """A progress bar on stderr, so machine-readable stdout (--json) stays clean."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=Console(stderr=True), transient=False)


@cli.command()
def sample(out: Annotated[Path, typer.Option(help="folder for the sample files")] = Path("var/sample"),
           seed: int = 0, weeks: Annotated[int, typer.Option(min=104)] = 156,
           factories: Annotated[int, typer.Option(min=50)] = 240) -> None:
    """Write sample trend series (with ground truth), social posts and a factory registry."""
    with workspace() as ws:
        files = write_sample(ws.taxonomy, out, weeks=weeks, n_factories=factories, seed=seed)
    for name, path in files.__dict__.items():
        console.print(f"{name:>13}: {path}")


@trends_cli.command("ingest")
def trends_ingest(path: Path,
                  region: Annotated[str, typer.Option(help="posts: region of posts without one")] = "cn",
                  segment: Annotated[str, typer.Option(help="posts: the segment of the series built")] = "all",
                  weighting: Annotated[str, typer.Option(help="posts: 'posts' (each post 1) or 'engagement'")] = "posts",
                  embed: Annotated[bool, typer.Option(help="map what the lexicon misses (post texts, series names) by "
                                                          "MiniLM similarity")] = True,
                  threshold: Annotated[float, typer.Option(min=0.05, max=0.99, help="posts: embedding similarity needed for a category")] = EMBED_THRESHOLD) -> None:
    """Import trend data: weekly CSV (wide: date,<series>...; long: date,series,value) or social posts
    (.jsonl: text, timestamp, engagement?, region?). All or nothing: a bad line rejects the file."""
    with workspace() as ws:
        suffix = path.suffix.lower()
        if suffix in (".jsonl", ".ndjson"):
            posts = read_posts_jsonl(path, ws.taxonomy)
            encode = (lambda texts: ws.embedder.encode(texts)) if embed else None  # loads MiniLM only if needed
            built = posts_to_series(posts, ws.taxonomy, default_region=region, segment=segment, embed=encode,
                                    threshold=threshold, weighting=weighting, language=ws.language)
            report = built.report()
            console.print(f"mapped {report['posts']} posts: {report['keyword']} by keywords, {report['embedding']} by "
                          f"embeddings, {report['mixed']} by both, {report['unmapped']} to no category "
                          f"({report['category-only']} with a category but no attribute)")
            frame = built.frame
        elif suffix == ".csv":
            frame = read_trend_csv(path, today=date.today())
        else:
            raise TrendDataError(str(path), None, f"unknown file type {suffix or '(none)'!r}; expected .csv (wide or "
                                 "long weekly series) or .jsonl (social posts)")
        with transaction(ws.sessions) as s:
            encode = (lambda texts: ws.embedder.encode(texts)) if embed else None  # MiniLM only if a name needs it
            res = trends.ingest_frame(s, frame, ws.taxonomy, source=str(path), language=ws.language, embed=encode)
    console.print(f"imported {res.series} series ({res.points} weekly values, {res.replaced} replaced) from {path}")
    if res.unmapped:
        console.print(f"[yellow]warning:[/yellow] {len(res.unmapped)} series name(s) map to nothing we know, stored "
                      f"and listed by `trendloom trends mapping`: {', '.join(res.unmapped[:10])}"
                      + (" ..." if len(res.unmapped) > 10 else "")
                      + "; say what one measures with `trendloom trends map`, or add the word with `trendloom "
                      "taxonomy add`")


@trends_cli.command("mapping")
def trends_mapping(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """What every stored series is taken to measure, and how (convention, lexicon, embedding, manual,
    unmapped); unmapped series first."""
    with workspace() as ws, ws.sessions() as s:
        rows = trends.mappings(s)
    if as_json:
        for m in rows:
            print(json.dumps(m.to_dict(), ensure_ascii=False))
        return
    table = Table("series", "kind", "attribute", "category", "how", title="What each series measures")
    for m in rows:
        table.add_row(m.series, m.kind or "", m.attribute or "", m.category or "(every)" if m.kind else "",
                      m.how if m.mapped else "[yellow]unmapped[/yellow]")
    console.print(table)


@trends_cli.command("map")
def trends_map(series: Annotated[str, typer.Argument(help="the series name, as imported")],
               kind: Annotated[Optional[str], typer.Option(help="color, material, pattern, silhouette or detail")] = None,
               attribute: Annotated[Optional[str], typer.Option(help="a taxonomy name of that kind")] = None,
               category: Annotated[Optional[str], typer.Option(help="only this category (default: every one)")] = None,
               nothing: Annotated[bool, typer.Option("--nothing", help="the series measures nothing we make")] = False) -> None:
    """Correct what a series measures; kept for every later import of a series of that name."""
    if nothing == (kind is not None):
        console.print("[red]error:[/red] give --kind and --attribute (and --category if it is about one category), "
                      "or --nothing")
        raise typer.Exit(2)
    with workspace() as ws, transaction(ws.sessions) as s:
        m = trends.correct_mapping(s, ws.taxonomy, series=series, kind=kind, attribute=attribute, category=category)
    console.print(f"{series} -> {m.kind}:{m.attribute} in {m.category or 'every category'}" if m.mapped
                  else f"{series} -> nothing we make")


@trends_cli.command("show")
def trends_show(category: Optional[str] = None, limit: int = 20, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The surest rising and fading attributes (forecast vs a year earlier, 95% interval)."""
    with workspace() as ws, ws.sessions() as s:
        if category is not None:
            ws.taxonomy.category(category)
        rows = trends.signals(s, category=category, taxonomy=ws.taxonomy)
    picked = [r for r in rows if r[1].direction == "rising"][:limit] + [r for r in rows if r[1].direction == "fading"][-limit:]
    if as_json:
        print(json.dumps([{"series": s.name, "category": s.category, "kind": s.kind, "attribute": s.attribute,
                           "direction": g.direction, "growth": g.growth, "lo": g.lo, "hi": g.hi, "method": g.method,
                           "why": g.why} for s, g in picked]))
        return
    table = Table("category", "kind", "attribute", "direction", "change y/y", "95% interval", title="Trend movers")
    for series, g in picked:
        lo, hi = (100 * math.expm1(x) for x in (g.lo, g.hi))
        colour = "green" if g.direction == "rising" else "red"
        table.add_row(series.category or "(every)", series.kind or "?", series.attribute or series.name,
                      f"[{colour}]{g.direction}[/{colour}]",
                      f"{g.change_pct:+.0f}%", f"{lo:+.0f}% .. {hi:+.0f}%")
    console.print(table)


def _sidecar(out: Path, part: str) -> Path:
    return out.with_name(f"{out.stem}.{part}{out.suffix or '.csv'}")


def _forecast_with_bar(frame: TrendFrame, horizon: int, level: float, ray: str | None = None) -> Forecast:
    """In-process, block by block with a progress bar; with `ray`, as Ray tasks. One BLAS thread either way,
    as in every batch task (app/batch.py), so both write the same file."""
    with progress() as bar, executor(ray) as ex, threadpool_limits(1, user_api="blas"):
        task = bar.add_task(f"forecasting {len(frame.names)} series", total=2 * len(frame.names))
        return forecast_frame(frame, horizon, level=level, on_progress=lambda done, _: bar.update(task, completed=done),
                              map_blocks=ex.map if ray else None)


@trends_cli.command("forecast")
def trends_forecast(path: Path,
                    out: Annotated[Path, typer.Option(help="forecast CSV (wide: the next HORIZON weeks, same columns)")],
                    horizon: Annotated[int, typer.Option(min=1, max=520)] = 52,
                    level: Annotated[float, typer.Option(min=0.5, max=0.99, help="prediction-interval coverage")] = 0.9,
                    bands: Annotated[bool, typer.Option(help="also write OUT.lower.csv, OUT.upper.csv, OUT.methods.csv")] = True,
                    ray: Annotated[Optional[str], typer.Option("--ray", metavar="ADDRESS", help=RAY_HELP)] = None) -> None:
    """Forecast every series of a weekly CSV (wide or long) HORIZON weeks ahead, written as wide CSV."""
    try:
        frame = read_trend_csv(path, today=date.today())
        fc = _forecast_with_bar(frame, horizon, level, ray)
        out.parent.mkdir(parents=True, exist_ok=True)
        write_wide_csv(fc.frame("mean"), out)
        if bands:
            write_wide_csv(fc.frame("lower"), _sidecar(out, "lower"))
            write_wide_csv(fc.frame("upper"), _sidecar(out, "upper"))
            with _sidecar(out, "methods").open("w", newline="", encoding="utf-8") as fh:
                w = csv.writer(fh)
                w.writerow(["series", "method", "harmonics"])
                w.writerows(safe_row([name, m, int(k)]) for name, m, k in zip(fc.names, fc.methods, fc.harmonics))
    except (GenerationError, AppError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    used = ", ".join(f"{n} {m}" for m, n in fc.method_counts().items())
    console.print(f"forecast {len(fc.names)} series x {horizon} weeks ({used}) -> {out}"
                  + (f" (+ {int(round(100 * level))}% bands and methods beside it)" if bands else ""))


@trends_cli.command("report")
def trends_report(path: Annotated[Optional[Path], typer.Argument(help="weekly CSV; default: the stored series")] = None,
                  category: Optional[str] = None,
                  limit: Annotated[int, typer.Option(min=1, help="rows per direction")] = 10,
                  chart: Annotated[Path, typer.Option(help="PNG of the top movers with forecast bands")] = Path("trend_movers.png"),
                  movers: Annotated[int, typer.Option(min=1, max=24, help="panels in the chart")] = 6,
                  window: Annotated[int, typer.Option(min=4, max=52, help="forecast weeks compared with a year earlier")] = 26,
                  posts: Annotated[Optional[Path], typer.Option(help="posts JSONL for 'goes together' by co-occurrence")] = None) -> None:
    """Rising and fading attributes per category (forecast vs a year earlier, 95% interval, why), what goes
    together, and a PNG chart of the top movers with their forecast bands."""
    with workspace() as ws:
        if category is not None:
            ws.taxonomy.category(category)
        if path is not None:
            frames = [read_trend_csv(path, today=date.today())]
        else:  # each stored series on its own weeks: one frame per span (`trends.load_frames`)
            with ws.sessions() as s:
                frames = trends.load_frames(s)
            if not frames:
                raise TrendDataError("workspace", None, "no trend series stored: import some with `trendloom trends ingest FILE`")
        newest = max(f.weeks[-1] for f in frames)
        forecasts = [_forecast_with_bar(f, 52, 0.9) for f in frames]
        ends = [DataEnd(f.weeks[-1], newest) if f.weeks[-1] < newest else None for f in frames]
        signals = sorted((replace(g, why=g.why + trends.ends_note(end))
                          for f, fc, end in zip(frames, forecasts, ends) for g in rank_forecast(f, fc, window=window)
                          if category is None or g.series.split("_")[2:3] == [category]),
                         key=lambda g: (g.confidence, g.growth), reverse=True)
        pairs = [p for f in frames for p in series_pairs(f) if category is None or p.category == category]
        if posts is not None:
            matches = map_posts(read_posts_jsonl(posts, ws.taxonomy), ws.taxonomy)
            pairs += [p for p in post_pairs(matches) if category is None or p.category == category]
    picked = [g for g in signals if g.direction == "rising"][:limit] + [g for g in signals if g.direction == "fading"][-limit:]
    picked.sort(key=lambda g: (g.series.split("_")[2:3], -g.confidence))
    table = Table("category", "kind", "attribute", "region", "direction", "change y/y", "95% interval", "why",
                  title=f"Rising and fading: next {window} forecast weeks vs the same weeks a year earlier")
    for g in picked:
        name = SeriesName.split(g.series)
        cat, kind, attr, region = ((name.category, name.kind, name.attribute, name.region) if name is not None
                                   else ("", "", g.series, ""))
        colour = "green" if g.direction == "rising" else "red"
        table.add_row(cat, kind, attr, region, f"[{colour}]{g.direction}[/{colour}]", f"{g.change_pct:+.0f}%",
                      f"{100 * math.expm1(g.lo):+.0f}% .. {100 * math.expm1(g.hi):+.0f}%", g.why.split("; ", 1)[-1])
    console.print(table)
    counts = {d: sum(g.direction == d for g in signals) for d in ("rising", "fading", "flat")}
    console.print(f"{len(signals)} series: {counts['rising']} rising, {counts['fading']} fading, {counts['flat']} flat")
    shown = [p for p in pairs if p.verdict != "neutral"]
    if shown:
        together = Table("category", "attribute", "attribute", "source", "score", "95% interval", "verdict",
                         title="What goes together (posts: log lift; series: correlation of year-on-year change)")
        for p in sorted(shown, key=lambda p: -abs(p.score))[: 2 * limit]:
            together.add_row(p.category, ":".join(p.a), ":".join(p.b), p.source, f"{p.score:+.2f}",
                             f"{p.lo:+.2f} .. {p.hi:+.2f}", p.verdict)
        console.print(together)
    # The chart draws one forecast: that of the span holding most of the top movers (usually the only span).
    top = top_movers(signals, movers)
    if top:
        fc = max(forecasts, key=lambda fc: (sum(g.series in set(fc.names) for g in top), fc.history.weeks[-1]))
        top = [g for g in top if g.series in set(fc.names)]
    if top:
        console.print(f"chart of {len(top)} top movers -> {plot_movers(fc, top, chart)}")
    else:
        console.print("no rising or fading series: no chart written")


@designs_cli.command("generate")
def designs_generate(n: Annotated[int, typer.Option(min=1, max=500)] = 12, category: Optional[str] = None,
                     attribute: Annotated[Optional[list[str]], typer.Option(help="pin KIND=NAME, e.g. color=navy")] = None,
                     max_price_cents: Optional[int] = None, seed: int = 0,
                     ray: Annotated[Optional[str], typer.Option("--ray", metavar="ADDRESS", help=RAY_HELP)] = None) -> None:
    """Compose N draft designs from the rising trends and render their images."""
    pinned = []
    for item in attribute or []:
        kind, _, name = item.partition("=")
        if not name:
            raise typer.BadParameter(f"{item!r} is not KIND=NAME", param_hint="--attribute")
        pinned.append((kind, name))
    with workspace() as ws, executor(ray) as ex, progress() as bar, transaction(ws.sessions) as s:
        task = bar.add_task("designing", total=n)
        render = (lambda specs, seeds: render_designs(ex, ws.settings, ws.taxonomy, specs, seeds)) if ray else None
        made = design_svc.generate(s, ws.taxonomy, ws.images, ws.settings.images_dir, n=n, seed=seed,
                                   cost_share=ws.settings.cost_share,
                                   pins=Pins(category, tuple(pinned), max_price_cents),
                                   on_progress=lambda i: bar.update(task, completed=i), ws=ws, render=render)
        ids = [d.id for d in made]
    console.print(f"generated {len(ids)} draft designs: {ids}")


@images_cli.command("generate")
def images_generate(spec: Annotated[Path, typer.Option(help="JSON with at least category, color, pattern, material")],
                    out: Annotated[Path, typer.Option(help="folder for the PNGs")],
                    n: Annotated[int, typer.Option(min=1, max=64)] = 4, seed: int = 0) -> None:
    """Write N images of one spec (TRENDLOOM_IMAGE_BACKEND picks the model; same seed, same images)."""
    try:
        data = json.loads(spec.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        console.print(f"[red]error:[/red] cannot read spec {spec}: {exc}")
        raise typer.Exit(1) from None
    with workspace() as ws:
        if not isinstance(data, dict) or "pattern" not in data:
            raise TaxonomyError(f"{spec}: a JSON object with category, color, pattern and material is required")
        design = DesignSpec.from_dict(data).validate(ws.taxonomy)
        out.mkdir(parents=True, exist_ok=True)
        with progress() as bar:
            task = bar.add_task(f"drawing with {ws.images.name}", total=None)
            images = ws.images.generate(design, n=n, seed=seed)
            bar.update(task, total=1, completed=1)
        for k, image in enumerate(images):
            image.save(out / f"{design.category}-{seed}-{k}.png")
    console.print(f"wrote {len(images)} images of '{design.text()}' to {out}")


@designs_cli.command("publish")
def designs_publish(ids: Annotated[Optional[list[int]], typer.Argument(help="design ids; all drafts if none")] = None) -> None:
    """Publish drafts as virtual items: threshold, demand prior, index entry, test window."""
    with workspace() as ws, transaction(ws.sessions) as s:
        targets = ids or [d.id for d in design_svc.list_designs(s, status=DesignState.DRAFT, limit=100_000)]
        for d in design_svc.publish(s, ws, targets, now=utcnow()):
            console.print(f"published {d.id} {d.name}: {d.production_threshold} pcs to win ({d.note})")
    if not targets:
        console.print("no drafts to publish")


@designs_cli.command("list")
def designs_list(status: Optional[str] = None, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List designs (optionally of one status)."""
    with workspace() as ws, ws.sessions() as s:
        rows = design_svc.list_designs(s, status=status, limit=100_000)
    words = catalogue("en")  # the status as the pages word it (`lifecycle.design_word`)
    shown = {d.id: words[lifecycle.design_word(d.status, d.book_closed_at is not None)] for d in rows}
    if as_json:
        print(json.dumps([{"id": d.id, "name": d.name, "status": d.status, "shown": shown[d.id], "images": d.images}
                          for d in rows]))
        return
    table = Table("id", "name", "status", "threshold", "note", title="Designs")
    for d in rows:
        table.add_row(str(d.id), d.name, shown[d.id], str(d.production_threshold or ""), d.note)
    console.print(table)


@factories_cli.command("import")
def factories_import(path: Path,
                     column: Annotated[Optional[list[str]], typer.Option(
                         help="FIELD=HEADER: read trendloom's FIELD from the column HEADER (repeatable), e.g. "
                              "workers=\"Total headcount\"; fields: " + ", ".join(REGISTRY_FIELDS))] = None,
                     as_json: Annotated[bool, typer.Option("--json", help="print the whole report as JSON")] = False,
                     report: Annotated[Optional[Path], typer.Option(help="write every row's outcome and reason "
                                                                    "(and both sources of a merge) to this CSV")] = None) -> None:
    """Import a factory registry CSV: an Open Supply Hub download, a brand's supplier list, a spreadsheet
    (common column names are recognised; --column names the rest), or trendloom's own format (all or
    nothing: a bad line rejects the file). What a registry does not say is kept unknown; near-duplicate
    facilities are merged, each merge reported with both source lines."""
    with workspace() as ws:
        overrides = parse_overrides(column or [])
        text = read_text(path)
        with transaction(ws.sessions) as s:
            res = factory_registry.import_registry(s, text=text, file=str(path), taxonomy=ws.taxonomy,
                                                   language=ws.language, overrides=overrides)
    if report is not None:
        report.parent.mkdir(parents=True, exist_ok=True)
        write_rows_csv(report, ("line", "outcome", "factory_id", "reason", "kept", "merged"),
                       factory_registry.outcomes_csv(res))
    if as_json:
        print(json.dumps(res.to_dict(outcomes=False), ensure_ascii=False))
        return
    if res.format == "trendloom":
        console.print(f"imported {res.imported + res.updated} factories from {path}")
        return
    console.print(f"{res.rows} rows from {path}: {res.imported} new factories, {res.updated} updated, "
                  f"{len(res.merged)} merged into another row or stored factory, {len(res.skipped)} skipped")
    console.print("columns read: " + ", ".join(f"{f}={h!r}" for f, h in res.columns.items())
                  + (f"; ignored: {', '.join(res.ignored_columns)}" if res.ignored_columns else ""))
    console.print("categories from: " + ", ".join(f"{k} {v}" for k, v in res.categories_from.items())
                  + f"; material/component suppliers (no finished-goods orders): {res.material_suppliers}")
    for m in res.merged[:10]:
        console.print(f"[cyan]merged[/cyan] line {m.line} into {m.into}: {m.reason}\n  kept:   {m.kept}\n  merged: {m.merged}")
    if len(res.merged) > 10:
        console.print(f"... {len(res.merged) - 10} more merges" + (f" in {report}" if report else " (see --report)"))
    for o in res.skipped[:10]:
        console.print(f"[yellow]skipped[/yellow] line {o.line}: {o.reason}")
    if res.unmapped_terms:
        console.print(f"[yellow]{len(res.unmapped_terms)} product types or sectors map to no category[/yellow]: "
                      + ", ".join(f"{t} ({n})" for t, n in list(res.unmapped_terms.items())[:10])
                      + "; say what one means with `trendloom factories map TERM --category ...`")


@factories_cli.command("list")
def factories_list(as_json: Annotated[bool, typer.Option("--json", help="one JSON object per factory")] = False,
                   country: Annotated[Optional[str], typer.Option(help="only this country (ISO code, e.g. CN)")] = None,
                   limit: Annotated[int, typer.Option(min=1, help="rows in the table (--json lists all)")] = 50) -> None:
    """The registry: id, name, country, categories, capacity and MOQ (known, or estimated and how), facility
    type (material/component suppliers marked)."""
    with workspace() as ws, ws.sessions() as s:
        rows = factory_registry.list_factories(s, production.estimate_rules(ws.settings), country=country,
                                               limit=None if as_json else limit)
        total = factory_registry.summary(s)
    if as_json:
        for v in rows:
            print(json.dumps(v.to_dict(), ensure_ascii=False))
        return
    table = Table("id", "name", "country", "categories", "capacity/month", "MOQ", "facility type",
                  title=f"Factories ({total.factories}: capacity known for {total.capacity_known}, MOQ for "
                        f"{total.moq_known}; {total.material_suppliers} material suppliers)")

    def fig(f: factory_registry.Figure) -> str:
        return f"{f.value:,}" + ("" if f.known else " (est.)")

    for v in rows:
        table.add_row(v.id, v.name, v.country, ", ".join(v.categories) or "[yellow]none[/yellow]", fig(v.capacity),
                      fig(v.moq), ("[magenta]material supplier[/magenta] " if v.supplies_materials else "") + v.facility_type)
    console.print(table)
    if len(rows) < total.factories and country is None:
        console.print(f"first {len(rows)} of {total.factories}; --json lists every factory with the estimate notes")


@factories_cli.command("mapping")
def factories_mapping(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """What each product type and sector of the stored factories is read as (categories), and how (manual,
    lexicon, sector, unmapped); unmapped first."""
    with workspace() as ws, ws.sessions() as s:
        rows = factory_registry.term_mappings(s, ws.taxonomy, ws.language)
    if as_json:
        for m in rows:
            print(json.dumps(m.to_dict(), ensure_ascii=False))
        return
    table = Table("term", "used as", "factories", "categories", "how", title="Product types and sectors")
    for m in rows:
        table.add_row(m.term, ", ".join(m.kinds), str(m.factories), ", ".join(m.categories) or "",
                      m.how if m.mapped else f"[yellow]{m.how}[/yellow]" + (f" (names {m.other})" if m.other else ""))
    console.print(table)


@factories_cli.command("map")
def factories_map(term: Annotated[str, typer.Argument(help="a product type or sector, as the registry writes it")],
                  category: Annotated[Optional[list[str]], typer.Option(help="a category it means (repeatable)")] = None,
                  nothing: Annotated[bool, typer.Option("--nothing", help="it means nothing we make")] = False) -> None:
    """Correct what a product type or sector means; kept for later imports and applied to the stored factories."""
    if nothing == bool(category):
        console.print("[red]error:[/red] give --category (repeatable) or --nothing")
        raise typer.Exit(2)
    with workspace() as ws, transaction(ws.sessions) as s:
        m, changed = factory_registry.correct_term(s, ws.taxonomy, ws.language, term=term, categories=category or [])
    console.print(f"{m.term} -> {', '.join(m.categories) or 'nothing we make'}; {changed} stored factories changed")


@catalog_cli.command("import")
def catalog_import(path: Path, as_json: Annotated[bool, typer.Option("--json")] = False,
                   ray: Annotated[Optional[str], typer.Option("--ray", metavar="ADDRESS", help=RAY_HELP)] = None) -> None:
    """Import a product catalogue CSV (id,name[,category,color,material,pattern,silhouette,price_cents,
    launch_date,units_sold,description,image]); attributes it leaves out are read from the name and
    description. All or nothing; an id already stored is replaced."""
    with workspace() as ws, executor(ray) as ex:
        text = read_text(path)
        model = str(ws.settings.embedder_path or "")
        with transaction(ws.sessions) as s:
            report = catalog.import_catalog(s, text=text, file=str(path), language=ws.language,
                                            embed=lambda texts: embed_texts(ex, model, texts))
    if as_json:
        print(json.dumps(report.to_dict()))
        return
    read = ", ".join(f"{n} {f}" for f, n in report.inferred.items() if n) or "nothing"
    console.print(f"imported {report.rows} catalogue items ({report.replaced} replaced, {report.with_units} with "
                  f"units sold) from {path}; read from the name or description: {read}")
    if report.without_category:
        console.print(f"[yellow]{report.without_category} items with no category[/yellow] (first "
                      f"{len(report.without_category_first)}): " + "; ".join(report.without_category_first))
    if report.ignored_columns:
        console.print(f"ignored columns: {', '.join(report.ignored_columns)}")


@catalog_cli.command("backtest")
def catalog_backtest(path: Path, as_json: Annotated[bool, typer.Option("--json")] = False,
                     folds: Annotated[int, typer.Option(min=2, max=50, help="random folds when launch dates cannot split")] = 5,
                     seed: int = 0) -> None:
    """Hold out the latest 20% of a catalogue by launch date (random folds when dates are missing or
    equal), predict their units sold from the rest with the demand prior's neighbours, and compare
    with the category mean. Nothing is stored."""
    with workspace() as ws:
        result = catalog.backtest(text=read_text(path), file=str(path), language=ws.language,
                                  embed=ws.embedder.encode, k=ws.settings.prior_neighbours, folds=folds, seed=seed)
    out = result.to_dict()
    print(json.dumps(out)) if as_json else console.print_json(data=out)


@users_cli.command("create")
def users_create(login: Annotated[str, typer.Option(help="sign-in name")],
                 role: Annotated[str, typer.Option(help="merchandiser, buyer, factory or admin")],
                 password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the password from stdin")] = False,
                 display_name: str = "", language: str = "en",
                 factory_id: Annotated[Optional[str], typer.Option(help="factory users: the factory they act for")] = None,
                 buyer_id: Annotated[Optional[int], typer.Option(help="buyer users: an existing buyer (default: a new one)")] = None) -> None:
    """Create an account (e.g. the first admin). The password is asked for, or read from stdin."""
    password = (sys.stdin.readline().rstrip("\r\n") if password_stdin
                else typer.prompt("password", hide_input=True, confirmation_prompt=True))
    with workspace() as ws, transaction(ws.sessions) as s:
        user = accounts.create_user(s, login, password, role, display_name=display_name, language=language,
                                    buyer_id=buyer_id, factory_id=factory_id)
        console.print(f"created user {user.id}: {user.login} ({user.role})")


@users_cli.command("list")
def users_list() -> None:
    """Every account with its role and the buyer or factory it acts for."""
    with workspace() as ws, ws.sessions() as s:
        for u in accounts.list_users(s):
            link = f"buyer {u.buyer_id}" if u.buyer_id else (f"factory {u.factory_id}" if u.factory_id else "")
            console.print(f"{u.id:>4}  {u.login:<24} {u.role:<13} {link}")


@users_cli.command("disable")
def users_disable(login: Annotated[str, typer.Argument(help="the account's login")]) -> None:
    """Disable an account: it cannot sign in, and every browser session and API token ends now."""
    with workspace() as ws, transaction(ws.sessions) as s:
        n = accounts.disable(s, accounts.user_by_login(s, login), utcnow())
    console.print(f"disabled {accounts.normalise_login(login)}; ended {n} sessions and tokens")


@users_cli.command("enable")
def users_enable(login: Annotated[str, typer.Argument(help="the account's login")]) -> None:
    """Let a disabled account sign in again (with its password)."""
    with workspace() as ws, transaction(ws.sessions) as s:
        accounts.enable(s, accounts.user_by_login(s, login))
    console.print(f"enabled {accounts.normalise_login(login)}")


@users_cli.command("revoke")
def users_revoke(login: Annotated[str, typer.Argument(help="the account's login")]) -> None:
    """End every browser session and API token of an account now (its password stays)."""
    with workspace() as ws, transaction(ws.sessions) as s:
        n = accounts.revoke_all(s, accounts.user_by_login(s, login))
    console.print(f"ended {n} sessions and tokens of {accounts.normalise_login(login)}")


@users_cli.command("reset-password")
def users_reset_password(login: Annotated[str, typer.Argument(help="the account's login")]) -> None:
    """Give an account a new random password (printed once) and end every session and token."""
    with workspace() as ws, transaction(ws.sessions) as s:
        password = accounts.reset_password(s, accounts.user_by_login(s, login))
    console.print(f"new password for {accounts.normalise_login(login)}: [bold]{password}[/bold]")


@cli.command()
def simulate(buyers: Annotated[int, typer.Option(min=1)] = 200, days: Annotated[int, typer.Option(min=1)] = 14,
             designs: Annotated[int, typer.Option(min=0, help="synthetic designs to create first (specs only)")] = 0,
             policy: Annotated[Optional[str], typer.Option(help="thompson | uniform (default: the setting)")] = None,
             feed_size: Annotated[int, typer.Option(min=1)] = 8,
             visit_rate: Annotated[float, typer.Option(min=0.01, max=1.0, help="share of buyers opening the feed each day")] = 1.0,
             fixed_horizon: Annotated[bool, typer.Option(help="no early decisions: test every design for its whole budget")] = False,
             seed: int = 0, as_json: Annotated[bool, typer.Option("--json")] = False,
             attack: Annotated[Optional[str], typer.Option(help="hostile buyers among the honest ones, comma-separated: "
                                                           "flood, fan, churn (app/attacks.py)")] = None) -> None:
    """Simulated buyers browse the designs under test and pre-order through the real services."""
    if policy is not None and policy not in POLICIES:
        raise typer.BadParameter(f"{policy!r} is not one of {', '.join(POLICIES)}", param_hint="--policy")
    try:
        attackers = make_attackers([a.strip() for a in attack.split(",") if a.strip()] if attack else [], seed)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--attack") from None
    with workspace() as ws:
        sim = BuyerSimulator(ws, seed=seed)
        start = utcnow()
        if designs:
            sim.create_designs(designs, start)
        with progress() as bar:
            task = bar.add_task("simulating days", total=days)
            report = sim.run(buyers=buyers, days=days, start=start, feed_size=feed_size, visit_rate=visit_rate,
                             policy=policy, fixed_horizon=fixed_horizon, on_day=lambda d: bar.update(task, completed=d),
                             attackers=attackers)
    out = report.summary()
    if as_json:
        print(json.dumps(out))
    else:
        out.pop("timeline")
        console.print_json(data=out)


@cli.command()
def match(factories: Annotated[Optional[Path], typer.Option(help="factory registry CSV (with --orders and --out)")] = None,
          orders: Annotated[Optional[Path], typer.Option(help="orders CSV: design_id,category,materials,processes,"
                                                         "quantity,due_in_days,description")] = None,
          out: Annotated[Optional[Path], typer.Option(help="allocation CSV; OUT.unplaced.csv and OUT.candidates.csv beside it")] = None,
          exact: Annotated[bool, typer.Option("--exact", help="also solve the MILP exactly, write its plan, print the gap")] = False,
          milp_seconds: Annotated[float, typer.Option(min=1, max=3600, help="--exact: time limit of the MILP")] = 120.0) -> None:
    """Without options: offer every winning design's pre-ordered quantity to the workspace's factories,
    all winners together at least cost. With --orders and --out: plan those orders and write the
    allocation, nothing stored: on the workspace's registry with the capacity it has free now, or with
    --factories on that registry CSV (trendloom's format, full capacity free)."""
    if factories is None and orders is None and out is None:
        if exact:
            raise typer.BadParameter("--exact needs --orders and --out", param_hint="--exact")
        _match_winners()
        return
    if orders is None or out is None:
        raise typer.BadParameter("--orders and --out go together (--factories is optional: default the workspace's "
                                 "registry)", param_hint="--orders/--out")
    with workspace() as ws:
        todo = read_orders_csv(orders, planning.vocabulary(ws.taxonomy))
        if factories is None:
            with ws.sessions() as s:
                result = production.plan_orders(s, ws, todo, exact=exact, time_limit_s=milp_seconds)
        else:
            registry = read_factories_csv(factories, known_categories=ws.taxonomy.categories,
                                          known_materials=ws.taxonomy.materials)
            needs = [planning.order_need(o, ws.taxonomy, cost_share=ws.settings.cost_share) for o in todo]
            result = planning.plan(ws, registry, needs, np.array([f.plan_capacity for f in registry]),
                                   solver="both" if exact else "heuristic", workspace_registry=False,
                                   time_limit_s=milp_seconds)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_rows_csv(out, ("design_id", "factory_id", "quantity", "unit_cost", "total_cost"),
                   ((r.design_id, r.factory_id, r.quantity, r.unit_cost_cents, r.total_cost_cents) for r in result.rows()))
    write_rows_csv(_sidecar(out, "unplaced"), ("design_id", "quantity", "reason"),
                   ((u.design_id, u.quantity, u.reason) for u in result.unplaced))
    write_rows_csv(_sidecar(out, "candidates"), ("design_id", "factory_id", "rank", "similarity", "kept", "score",
                                                 "assumed", "reasons"),
                   ((d, c.factory_id, c.rank, f"{c.similarity:.4f}", "yes" if c.kept else "no", f"{c.score:.4f}",
                     " | ".join(c.assumptions), " | ".join(c.reasons))
                    for d, rows in result.candidates.items() for c in rows))
    _print_plan(result, len(todo), out)


def _print_plan(result: MatchPlan, n_orders: int, out: Path) -> None:
    placed = sum(r.quantity for r in result.rows())
    left = sum(u.quantity for u in result.unplaced)
    console.print(f"{n_orders} orders: {placed} pcs on {len(result.rows())} lanes -> {out}; "
                  f"{left} pcs unplaced -> {_sidecar(out, 'unplaced')}")
    h = result.heuristic
    if h is not None:
        console.print(f"heuristic objective {h.objective} cents (lower bound {h.lower_bound:.0f}, "
                      f"gap to bound {100 * h.gap:.2f}%, {h.seconds:.2f} s)")
    e = result.exact
    if e is not None:
        console.print(f"exact MILP objective {e.objective} cents ({e.stats.get('status')}, bound {e.lower_bound:.0f}, "
                      f"{e.seconds:.2f} s); written plan: exact")
    if result.heuristic_gap is not None:
        console.print(f"gap heuristic vs exact: {100 * result.heuristic_gap:.3f}%")
    console.print(f"objective {result.objective} cents")
    for u in result.unplaced:
        console.print(f"[yellow]unplaced[/yellow] {u.design_id}: {u.quantity} pcs - {u.reason}")


def _match_winners() -> None:
    """Offer every closed-book winner to the workspace's factories (plain `trendloom match`)."""
    with workspace() as ws, transaction(ws.sessions) as s:
        results = production.match_winners(s, ws, now=utcnow())
        for r in results:
            if r.orders:
                parts = ", ".join(f"{o.factory_id} x{o.quantity} @ {o.unit_price_cents / 100:.2f}" for o in r.orders)
                console.print(f"design {r.design_id}: {parts}" + (f" ({r.unmatched_reason})" if r.unmatched_reason else ""))
            else:
                console.print(f"design {r.design_id}: [yellow]unmatched[/yellow] - {r.unmatched_reason}")
    if not results:
        console.print("no winning designs waiting for a factory")


@text_cli.command("extract")
def text_extract(as_json: Annotated[bool, typer.Option("--json", help="one JSON object per line (the default "
                                                                    "prints a table)")] = False) -> None:
    """Read one product text per line on stdin (a title, a post, a query, a supplier's product type) and say
    which category, colour, material, pattern, silhouette and details it names (taxonomy names, or none)."""
    with workspace() as ws:
        language = ws.language
        rows = (language.extract(line.rstrip("\r\n")) for line in sys.stdin if line.strip())
        if as_json or not sys.stdout.isatty():  # piped: one JSON object per line, whatever the flag
            for e in rows:
                print(json.dumps(e.to_dict(), ensure_ascii=False))
            return
        table = Table("text", "category", "color", "material", "pattern", "silhouette", "details")
        for e in rows:
            d = e.to_dict()
            table.add_row(e.text, *(d[k] or "" for k in ("category", "color", "material", "pattern", "silhouette")),
                          ", ".join(e.details))
        console.print(table)


@demand_cli.command("wants")
def demand_wants(as_json: Annotated[bool, typer.Option("--json", help="one JSON object per line")] = False,
                 weeks: Annotated[int, typer.Option(min=1, max=52, help="weeks to read, this one included")] = wants.WEEKS,
                 limit: Annotated[int, typer.Option(min=1)] = 20) -> None:
    """The top unmet wants (searches with no or weak results, inquiries, variant requests): category,
    attributes, distinct buyers and the words they used; then the texts nothing could be read in."""
    with workspace() as ws, ws.sessions() as s:
        today = utcnow().date()
        found, unread = wants.wants(s, today, weeks=weeks, limit=limit), wants.unread(s, today, weeks=weeks, limit=limit)
    if as_json or not sys.stdout.isatty():
        for w in found:
            print(json.dumps(w.to_dict(), ensure_ascii=False))
        return
    table = Table("category", "attributes", "buyers", f"buyers per week (last {weeks})", "their words",
                  title="What buyers asked for and could not find")
    for w in found:
        table.add_row(w.category or "(any)", ", ".join(f"{k} {n}" for k, n in w.attributes), str(w.buyers),
                      " ".join(map(str, w.weekly)), " | ".join(w.texts[:3]))
    console.print(table)
    if unread:
        console.print("Unread (nothing we make could be read in them): " +
                      " | ".join(f"{u.text} ({u.buyers})" for u in unread))


@taxonomy_cli.command("add")
def taxonomy_add(kind: Annotated[str, typer.Argument(help="color, material, pattern, silhouette or detail")],
                 name: Annotated[str, typer.Argument(help="lowercase, words joined by '-', e.g. teal")],
                 zh: Annotated[str, typer.Option(help="its Chinese name (needed for a new attribute)")] = "",
                 word: Annotated[Optional[list[str]], typer.Option(help="another word for it (repeatable, EN or ZH)")] = None,
                 category: Annotated[Optional[list[str]], typer.Option(help="a category it applies to (repeatable; "
                                                                           "default: every one)")] = None,
                 rgb: Annotated[Optional[str], typer.Option(help="colours: its value, #rrggbb")] = None) -> None:
    """Add an attribute to the taxonomy (a colour "teal", a material "velvet"), or words for one that
    exists; the stored series are read again with the new words."""
    with workspace() as ws:
        with transaction(ws.sessions) as s:
            added = taxonomy_service.add_attribute(s, ws.taxonomy, AttributeAddition(
                kind, name, zh, tuple(word or ()), tuple(category) if category else None, rgb))
        what = "added" if added.new else "more words for"
        console.print(f"{what} {added.kind} {added.name!r}; {added.remapped} stored series now read differently")


@taxonomy_cli.command("list")
def taxonomy_list(kind: Annotated[str, typer.Argument(help="category, color, material, pattern, silhouette or detail")],
                  as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The names of one kind, with their Chinese name and words."""
    with workspace() as ws:
        tx = ws.taxonomy
        if kind == "category":
            rows = [(c.name, c.zh, c.synonyms) for c in tx.categories.values()]
        elif kind in tx.attributes:
            rows = [(a.name, a.zh, a.synonyms) for a in tx.attributes[kind].values()]
        else:
            console.print(f"[red]error:[/red] unknown kind {kind!r}; allowed: category, {', '.join(tx.attributes)}")
            raise typer.Exit(2)
    if as_json:
        print(json.dumps([{"name": n, "zh": z, "words": list(w)} for n, z, w in rows], ensure_ascii=False))
        return
    table = Table("name", "zh", "words", title=kind)
    for n, z, w in rows:
        table.add_row(n, z, ", ".join(w))
    console.print(table)


@cli.command()
def status(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Counts per stage of the loop."""
    with workspace() as ws, ws.sessions() as s:
        counts = stage_counts(s)
    print(json.dumps(counts)) if as_json else console.print_json(data=counts)


WORKER_HEALTHCHECK_S = 60
SQLITE_ONE_WORKER = ("--workers above 1 needs PostgreSQL (set DATABASE_URL=postgresql+psycopg://...): SQLite "
                     "takes one writer at a time, so several worker processes would queue on its file lock, and it "
                     "has no advisory lock to elect the one worker that runs the background jobs")


@cli.command()
def serve(host: str = "127.0.0.1", port: int = 8000,
          workers: Annotated[int, typer.Option(min=1, envvar="TRENDLOOM_WORKERS", help="worker processes (more than "
                                               "1 needs PostgreSQL); each serves, one elected by an advisory lock "
                                               "runs the background jobs")] = 1
          ) -> None:
    """Serve the API (OpenAPI at /docs)."""
    import uvicorn

    if workers > 1:
        settings = Settings()
        if not settings.db_url.startswith("postgresql"):
            console.print(f"[red]error:[/red] {SQLITE_ONE_WORKER}")
            raise typer.Exit(2)
        with workspace():  # creates the folder and migrates once, before the workers start
            pass
    # A worker starting (imports, models) on a busy machine answered uvicorn's 5 s health check too late
    # and was killed and restarted in a loop; a hung worker is still replaced, after a minute.
    uvicorn.run("app.api.main:create_app", factory=True, host=host, port=port, workers=workers,
                timeout_worker_healthcheck=WORKER_HEALTHCHECK_S)


DEMO_MARKER = ".trendloom-demo"


def _fresh_demo_home(home: Path, *, reset: bool) -> None:
    """Make `home` an empty workspace marked as the demo's, deleting only what may be deleted.

    A folder that is missing, empty or marked by an earlier demo is (re)made; anything else may be a real
    workspace (its database and images), so it is deleted only with `reset`, and otherwise refused."""
    if home.exists() and not home.is_dir():
        console.print(f"[red]error:[/red] TRENDLOOM_HOME {home} is a file, not a workspace folder")
        raise typer.Exit(1)
    if home.is_dir() and any(home.iterdir()):
        demo_built = (home / DEMO_MARKER).is_file()
        if not demo_built and not reset:
            console.print(f"[red]error:[/red] TRENDLOOM_HOME {home} is not empty and was not built by the demo "
                          f"(no {DEMO_MARKER} file); the demo starts from an empty folder and will not delete it. "
                          "Set TRENDLOOM_HOME to another folder, or run `trendloom demo --reset` to delete it.")
            raise typer.Exit(1)
        what = "the old demo workspace" if demo_built else "the workspace (--reset)"
        console.print(f"[yellow]starting over:[/yellow] deleting {what} {home}")
        for child in home.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    home.mkdir(parents=True, exist_ok=True)
    (home / DEMO_MARKER).write_text("built by `trendloom demo`, which deletes this folder when it runs again\n")


@cli.command()
def demo(no_serve: Annotated[bool, typer.Option("--no-serve", help="stop after the loop")] = False,
         reset: Annotated[bool, typer.Option("--reset", help="delete TRENDLOOM_HOME even if the demo did not "
                                             "build it (its database and images are lost)")] = False,
         designs: int = 12, buyers: int = 150, days: int = 14, seed: int = 0,
         host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the whole loop on a fresh workspace: sample data, trends, designs, buyers, factories.

    The workspace is TRENDLOOM_HOME: a missing or empty folder, or one an earlier demo built (it leaves a
    .trendloom-demo file), which is deleted first; any other folder is refused unless --reset is given.
    A second, smaller batch of designs is published at the end so the served feed has items under test."""
    settings = Settings()
    if settings.database_url is None:
        _fresh_demo_home(settings.home, reset=reset)
    sample_dir = settings.home / "sample"
    console.rule("1. sample data")
    sample(out=sample_dir, seed=seed, weeks=156, factories=240)
    console.rule("2. trends")
    trends_ingest(sample_dir / "trends.csv")
    factories_import(sample_dir / "factories.csv")
    catalog_import(sample_dir / "catalog.csv")
    trends_show(category=None, limit=8, as_json=False)
    console.rule("3. designs")
    designs_generate(n=designs, category=None, attribute=None, max_price_cents=None, seed=seed)
    designs_publish(ids=None)
    console.rule("4. buyers")
    simulate(buyers=buyers, days=days, designs=0, policy=None, feed_size=8, visit_rate=1.0, fixed_horizon=False,
             seed=seed, as_json=False, attack=None)
    console.rule("5. factories")
    match(factories=None, orders=None, out=None, exact=False, milp_seconds=120.0)
    console.rule("6. the next drop, now under test")
    designs_generate(n=max(1, designs // 2), category=None, attribute=None, max_price_cents=None, seed=seed + 1)
    designs_publish(ids=None)
    console.rule("7. accounts (sign in at /docs with POST /api/v1/auth/token, or on the web pages)")
    with workspace() as ws, transaction(ws.sessions) as s:
        for user, password in accounts.seed_demo_accounts(s):
            console.print(f"{user.role:<13} login [bold]{user.login}[/bold]  password [bold]{password}[/bold]")
    console.rule("status")
    status(as_json=False)
    if not no_serve:
        base = f"http://{host}:{port}"
        console.rule(f"serving on {base}")
        console.print(f"web pages: sign in at [bold]{base}/login[/bold] with an account from step 7 "
                      "(English / 中文 at the top of every page)")
        for who, path in (("merchandiser console", "/merchandiser"), ("buyer storefront", "/shop"),
                          ("factory portal", "/factory"), ("API (OpenAPI)", "/docs")):
            console.print(f"  {who:<21} {base}{path}")
        serve(host=host, port=port)


def main() -> None:
    cli()
