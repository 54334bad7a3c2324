"""`sessionbench merge SHARD.json ... --output merged.json`: one result from a matrix's shards.

The files must be shards of one matrix (same identity, same split, same schema
version), each shard once.  The merged result holds every cell, tagged with the shard
that measured it, and every shard's own run (`shards`: when, how, and the environment,
since shards may run on different machines).  A merged file merges again: its shards
count as the shards it holds.
"""

from pathlib import Path

from sessionbench.errors import UsageError
from sessionbench.results import Environment, RunResult, Shard, ShardRun

from .resultfile import load_versioned


class MergeError(UsageError):
    """Files that are not shards of one matrix, or a shard given twice or missing."""


def shard_runs(run: RunResult) -> list[ShardRun]:
    """The shards a file holds: those it merged, or itself (a whole run is shard 1/1)."""
    if run.shards:
        return run.shards
    return [
        ShardRun(
            shard=run.shard or Shard(index=1, count=1), started_at=run.started_at,
            finished_at=run.finished_at, command=run.command, environment=run.environment,
            interrupted=run.interrupted,
        )
    ]  # fmt: skip


def _check_same_matrix(files: list[tuple[Path, RunResult, int]]) -> None:
    first_path, first, first_version = files[0]
    for path, run, version in files:
        if version != first_version:
            raise MergeError(
                f"{path} has schema version {version}, {first_path} {first_version}: "
                "merge shards written by one sessionbench version"
            )
        if run.matrix is None:
            raise MergeError(f"{path} records no matrix identity (written before shards existed)")
        if run.matrix != first.matrix:
            raise MergeError(
                f"{path} is a shard of another matrix than {first_path} ({run.matrix} vs "
                f"{first.matrix}): strategies, databases, pools, scenarios, users, duration "
                "or repeats differ"
            )


def _check_shards(located: list[tuple[Path, ShardRun]], partial: bool) -> None:
    count = located[0][1].shard.count
    seen: dict[int, Path] = {}
    for path, shard_run in located:
        shard = shard_run.shard
        if shard.count != count:
            raise MergeError(
                f"{path} splits the matrix in {shard.count} shards, {located[0][0]} in {count}"
            )
        if shard.index in seen:
            raise MergeError(f"shard {shard} is in both {seen[shard.index]} and {path}")
        seen[shard.index] = path
    missing = sorted(set(range(1, count + 1)) - set(seen))
    if missing and not partial:
        raise MergeError(
            f"shard(s) {', '.join(map(str, missing))} of {count} missing: "
            "give every shard, or --partial to merge without them"
        )


def merge(files: list[tuple[Path, RunResult, int]], command: list[str], partial: bool) -> RunResult:
    """`files`: each path with its run and the schema version it was written in."""
    if not files:
        raise MergeError("no results files to merge")
    _check_same_matrix(files)
    located = [(path, shard_run) for path, run, _ in files for shard_run in shard_runs(run)]
    _check_shards(located, partial)
    shards = sorted((shard_run for _, shard_run in located), key=lambda s: s.shard.index)
    runs = [run for _, run, _ in files]
    cells = []
    for run in runs:
        own = run.shard.index if run.shard else 1
        cells += [cell.model_copy(update={"shard": cell.shard or own}) for cell in run.cells]
    skipped = {(s.database, s.reason): s for run in runs for s in run.skipped}
    finished = [s.finished_at for s in shards]
    return RunResult(
        started_at=min(s.started_at for s in shards),
        finished_at=None if None in finished else max(f for f in finished if f is not None),
        command=command,
        environment=_environment(shards),
        cells=sorted(cells, key=lambda cell: cell.shard or 0),
        skipped=list(skipped.values()),
        interrupted=any(s.interrupted for s in shards),
        micro=[m for run in runs for m in run.micro],
        matrix=runs[0].matrix,
        shards=shards,
    )


def _environment(shards: list[ShardRun]) -> Environment:
    """The first shard's environment, knowing every database server any shard used."""
    servers = {k: v for s in reversed(shards) for k, v in s.environment.database_servers.items()}
    return shards[0].environment.model_copy(update={"database_servers": servers})


def run(*, results: list[Path], output: Path, command: list[str], partial: bool = False) -> int:
    """Merge `results` into `output`; returns the number of cells written."""
    if output.is_dir():
        raise UsageError(f"cannot write {output}: it is a directory; give a file name")
    merged = merge([(path, *load_versioned(path)) for path in results], command, partial)
    try:
        merged.write(output)
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None
    return len(merged.cells)
