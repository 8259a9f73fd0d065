"""Plant known bugs, one at a time, in a copy of the code; the test suite must fail on each.

    python tests/mutation_check.py              # every mutation, two at a time
    python tests/mutation_check.py --only reinforce-sign retina-x-reads-y
    python tests/mutation_check.py --tests tests/test_learning.py   # what these alone catch
    python tests/mutation_check.py --list

Each mutation is a one-spot edit of the kind peers have shipped: a flipped policy-gradient
sign, an advantage left attached to the graph, a location paired with the wrong step's
baseline, a retina reading the wrong axis, a reward paid every step, an autoreset that
forgets to reset. For each, the tracked and untracked (not ignored) files of this checkout
are copied to a temporary folder, the edit is applied there, and pytest runs on the copy
(``PYTHONPATH`` puts the copy's packages first): first the test files most likely to
notice, then, only if they all pass, the whole suite. A mutation is *caught* when some test
fails; the table printed at the end names the first failing test of each. The exit status
is 1 if any mutation survived (or the unmutated copy fails), else 0.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Mutation:
    """Replace ``old`` (found exactly ``count`` times) by ``new`` in ``path``."""

    name: str
    path: str
    old: str
    new: str
    likely: tuple[str, ...]  # test files to run first
    count: int = 1


LEARNER = ("tests/test_gradients.py", "tests/test_learning.py", "tests/test_agent.py")
ENV = ("tests/test_env.py", "tests/test_vector_env.py", "tests/test_retina.py")
DISTRIBUTED = ("tests/test_distributed.py",)

MUTATIONS = (
    Mutation(
        "reinforce-sign",
        "agents/reinforce.py",
        "location = -(rollout.location_log_probs * advantages[:steps])",
        "location = (rollout.location_log_probs * advantages[:steps])",
        LEARNER,
    ),
    Mutation(
        "advantage-not-detached",
        "agents/reinforce.py",
        "advantages = (rewards - rollout.baselines).detach()",
        "advantages = rewards - rollout.baselines",
        LEARNER,
    ),
    Mutation(
        "next-steps-baseline",
        "agents/reinforce.py",
        "advantages[:steps]",
        "advantages[1 : steps + 1]",
        LEARNER,
    ),
    Mutation(
        "location-weight-ignored",
        "agents/reinforce.py",
        "classification + location_weight * location + baseline",
        "classification + 0.0 * location + baseline",
        LEARNER,
    ),
    Mutation(
        "class-gradient-sign",
        "agents/reinforce.py",
        "classification = -(rollout.decision_log_probs * advantages[-decided:]).sum(0).mean()",
        "classification = (rollout.decision_log_probs * advantages[-decided:]).sum(0).mean()",
        LEARNER,
    ),
    Mutation(
        "baseline-trains-the-core",
        "agents/ram_policy.py",
        "self.baseline_layer(hidden.detach())",
        "self.baseline_layer(hidden)",
        LEARNER,
    ),
    Mutation(
        "sampled-location-not-detached",
        "agents/ram_policy.py",
        "location = (mean + noise * self.std).detach()",
        "location = mean + noise * self.std",
        LEARNER,
    ),
    Mutation(
        "hybrid-labels-misaligned",
        "agents/hybrid_ppo.py",
        "labels = self._end_labels[first + length - 1, env_index]",
        "labels = self._end_labels[first + length - 2, env_index]",
        ("tests/test_learning.py", "tests/test_sb3_agents.py"),
    ),
    Mutation(
        "hybrid-step-skipped",
        "agents/hybrid_ppo.py",
        "                policy.optimizer.step()\n",
        "                pass\n",
        ("tests/test_learning.py", "tests/test_sb3_agents.py"),
    ),
    Mutation(
        "mc-averages-logits",
        "agents/evaluation.py",
        "posteriors[batch.images] += batch.played.class_scores",
        "posteriors[batch.images] += np.log(batch.played.class_scores)",
        ("tests/test_values.py", "tests/test_agent.py", "tests/test_path_variance.py"),
    ),
    Mutation(
        "retina-x-reads-y",
        "ram_env/retina.py",
        "first_col = np.floor((locations[:, 0:1] + 1.0)",
        "first_col = np.floor((locations[:, 1:2] + 1.0)",
        ENV,
    ),
    Mutation(
        "retina-patch-off-by-half",
        "ram_env/retina.py",
        "- self._half_side + 0.5)",
        "- self._half_side)",
        ENV,
        count=2,
    ),
    Mutation(
        "retina-coarse-average",
        "ram_env/retina.py",
        "sums, np.float32(value_scale) / self._block_area, out=out[:, 1:]",
        "sums, np.float32(value_scale) / self._block_area / 2, out=out[:, 1:]",
        ENV,
    ),
    Mutation(
        "reward-every-step",
        "ram_env/episodes.py",
        "rewards = (correct & terminated).astype(np.float64)",
        "rewards = correct.astype(np.float64)",
        ENV,
    ),
    Mutation(
        "single-env-reward-every-step",
        "ram_env/episodes.py",
        "reward = float(correct and terminated)",
        "reward = float(correct)",
        ENV,
    ),
    Mutation(
        "reward-for-wrong-answers",
        "ram_env/episodes.py",
        "correct = predictions == self.labels",
        "correct = predictions != self.labels",
        ENV,
    ),
    Mutation(
        "next-step-autoreset-pays",
        "ram_env/vector_env.py",
        "            rewards[which] = 0.0\n",
        "            pass\n",
        ENV,
    ),
    Mutation(
        "same-step-autoreset-forgets",
        "ram_env/vector_env.py",
        "            batch.reset(which)\n            self._ended[:] = False\n",
        "            self._ended[:] = False\n",
        ENV,
    ),
    Mutation(
        "torch-retina-x-reads-y",
        "ram_env/torch_retina.py",
        "(locations[:, 0:1] + 1.0) * (width / 2.0)",
        "(locations[:, 1:2] + 1.0) * (width / 2.0)",
        ("tests/test_torch_env.py",),
    ),
    Mutation(
        "torch-clutter-from-own-digit",
        "ram_env/torch_canvases.py",
        "            other += (other >= image_index[:, None]).to(other.dtype)",
        "            other += 0",
        ("tests/test_torch_env.py",),
    ),
    Mutation(
        "cosine-schedule-rises",
        "agents/schedules.py",
        "0.5 * (1.0 + math.cos(math.pi * progress))",
        "0.5 * (1.0 - math.cos(math.pi * progress))",
        LEARNER,
    ),
    Mutation(
        "catch-paddle-a-pixel-wider",
        "ram_env/catch_batch.py",
        "(ball < self.paddles + task.paddle_width) & terminated",
        "(ball <= self.paddles + task.paddle_width) & terminated",
        ("tests/test_catch.py",),
    ),
    Mutation(
        "catch-ball-counted-twice-on-the-paddle",
        "ram_env/catch_glimpses.py",
        "        seen &= ~on_paddle[:, None]\n",
        "",
        ("tests/test_catch.py",),
    ),
    Mutation(
        "catch-move-credit-from-the-last-step",
        "agents/reinforce.py",
        "advantages[-decided:]",
        "advantages[-1:]",
        LEARNER,
    ),
    Mutation(
        "pretrained-hash-unchecked",
        "agents/pretrained.py",
        '    if actual != sidecar["sha256"]:\n',
        "    if False:\n",
        ("tests/test_pretrained.py",),
    ),
    Mutation(
        "pretrained-weights-kept-fp32",
        "agents/pretrained.py",
        "half = tensor.detach().to(torch.float16)",
        "half = tensor.detach().clone()",
        ("tests/test_pretrained.py",),
    ),
    Mutation(
        "ranks-sum-gradients",
        "agents/distributed.py",
        "        flat /= self.world_size\n",
        "",
        DISTRIBUTED,
    ),
    Mutation(
        "rank-replays-rank-0s-episodes",
        "agents/reinforce.py",
        "played = play(learner, env, seed, reset_seed=seed + rows.start)",
        "played = play(learner, env, seed)",
        DISTRIBUTED,
    ),
    Mutation(
        "rank-draws-its-own-noise",
        "agents/batch_rows.py",
        "        whole = torch.randn((self.total, columns), generator=generator, device=device)\n"
        "        return whole[self.start : self.stop]",
        "        return torch.randn((self.count, columns), generator=generator, device=device)",
        DISTRIBUTED,
    ),
)


@dataclass
class Outcome:
    name: str
    caught: bool
    first_failure: str
    seconds: float


def project_files() -> list[str]:
    """The checkout's tracked and untracked-but-not-ignored files."""
    listing = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return [name for name in listing.stdout.split("\0") if name and (ROOT / name).is_file()]


def copy_project(files: list[str], destination: Path) -> None:
    for name in files:
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)


def mutated(mutation: Mutation, text: str) -> str:
    """``text`` with the mutation applied; exits if ``old`` is not found ``count`` times."""
    found = text.count(mutation.old)
    if found != mutation.count:
        raise SystemExit(
            f"mutation {mutation.name}: expected {mutation.count} copies of {mutation.old!r} "
            f"in {mutation.path}, found {found}; update the mutation to the code"
        )
    return text.replace(mutation.old, mutation.new)


def apply(mutation: Mutation, tree: Path) -> None:
    path = tree / mutation.path
    path.write_text(mutated(mutation, path.read_text()))


def run_pytest(tree: Path, targets: list[str], timeout: float) -> tuple[bool, str]:
    """Run pytest on ``targets`` in ``tree``: (passed, first failing test or '')."""
    environment = {
        **os.environ,
        "PYTHONPATH": str(tree),
        "RAM_ENV_THREADS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *targets]
    with subprocess.Popen(
        command, cwd=tree, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    ) as process:  # fmt: skip
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)  # this run's own process group only
            # Bounded too: a process that left the group (a test's own process group) may
            # still hold the pipe; the killed pytest itself is reaped when the block ends.
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.communicate(timeout=30)
            return False, f"timed out after {timeout:.0f} s"
    if process.returncode == 0:
        return True, ""
    failures = re.findall(r"^(?:FAILED|ERROR) (\S+)", output, flags=re.MULTILINE)
    return False, failures[0] if failures else output.strip().splitlines()[-1]


def check(
    mutation: Mutation | None, files: list[str], timeout: float, tests: list[str] | None = None
) -> Outcome:
    """Copy, mutate and test; ``None`` tests the unmutated copy. ``tests``: run only these
    test files (else the likely ones, then the whole suite)."""
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ram-env-mutant-") as folder:
        tree = Path(folder)
        copy_project(files, tree)
        if mutation is None:
            passed, failure = run_pytest(tree, tests or ["tests"], timeout)
            return Outcome("(none)", not passed, failure, time.perf_counter() - start)
        apply(mutation, tree)
        passed, failure = run_pytest(tree, tests or list(mutation.likely), timeout)
        if passed and not tests:
            passed, failure = run_pytest(tree, ["tests"], timeout)
    return Outcome(mutation.name, not passed, failure, time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run these mutations only")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    parser.add_argument(
        "--tests", nargs="+", metavar="PATH", help="run only these test files or node ids"
    )
    parser.add_argument("--jobs", type=int, default=2, help="mutations tested at once")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per pytest run")
    parser.add_argument(
        "--skip-baseline", action="store_true", help="do not first test the unmutated copy"
    )
    args = parser.parse_args(argv)
    known = {mutation.name: mutation for mutation in MUTATIONS}
    if args.list:
        for mutation in MUTATIONS:
            print(f"{mutation.name:32} {mutation.path}")
        return 0
    unknown = sorted(set(args.only or ()) - set(known))
    if unknown:
        parser.error(f"unknown mutations {unknown}; --list shows them")
    if args.jobs < 1:
        parser.error(f"--jobs must be >= 1, got {args.jobs}")
    chosen = [known[name] for name in args.only] if args.only else list(MUTATIONS)
    files = project_files()
    for mutation in chosen:  # fail fast on a mutation that no longer fits the code
        mutated(mutation, (ROOT / mutation.path).read_text())
    if not args.skip_baseline:
        baseline = check(None, files, args.timeout, args.tests)
        verdict = f"FAILS {baseline.first_failure}" if baseline.caught else "passes"
        print(f"unmutated copy: {verdict} ({baseline.seconds:.0f} s)", flush=True)
        if baseline.caught:
            return 1
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        outcomes = list(pool.map(lambda m: check(m, files, args.timeout, args.tests), chosen))
    print("\n| mutation | file | caught by | s |\n|---|---|---|---:|")
    for mutation, outcome in zip(chosen, outcomes, strict=True):
        caught = f"`{outcome.first_failure}`" if outcome.caught else "**SURVIVED**"
        print(f"| {mutation.name} | {mutation.path} | {caught} | {outcome.seconds:.0f} |")
    survivors = [outcome.name for outcome in outcomes if not outcome.caught]
    print(f"\n{len(outcomes) - len(survivors)} of {len(outcomes)} mutations caught")
    if survivors:
        print(f"survived: {', '.join(survivors)}")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
