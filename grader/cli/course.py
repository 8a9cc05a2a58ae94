"""Course staff's commands: ``grade verify``, ``grade release``, ``grade init-ci``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from grader.cli.common import course_option, handles_errors
from grader.errors import UsageError


@click.command("verify")
@click.argument("assignments", nargs=-1)
@course_option
@click.option("--audit", "with_audit", is_flag=True,
              help="Also run `grade audit`: fail when a non-equivalent mutant survives.")
@handles_errors
def verify(assignments: tuple[str, ...], course: Path | None, with_audit: bool) -> None:
    """Check ASSIGNMENTS (default: all) as a course's CI should; exit 1 on any failure.

    The reference scores full marks, the stubs score zero on every item, the committed
    exercises are what `grade assign` writes, a notebook grades the same as the .py,
    every expected value is finite, and every derivative agrees with finite differences.

    \b
    Example:
      grade verify            # every assignment of this course
      grade verify hw1
    """
    from grader.authoring.verify import verify as run_verify
    from grader.course.files import available, find_root

    root = find_root(course)
    if not (root / "solutions").is_dir():
        what = "a release" if (root / "RELEASE.json").is_file() else "a student's copy"
        raise UsageError(f"{root} is {what} of the course (no solutions/): grade verify "
                         "checks the reference solutions, so run it in the course "
                         "repository (or pass --course DIR)")
    names = list(assignments) or available(root)
    if not names:
        raise UsageError(f"no assignments in {root / 'exercises'}")
    failed = 0
    for name in names:
        if name not in available(root):
            raise UsageError(f"unknown assignment {name!r}; here: {', '.join(available(root))}")
        report = run_verify(root, name)
        if with_audit:
            from grader.audit.gate import verify_check

            report.checks.append(verify_check(root, name))
        for c in report.checks:
            mark = "ok  " if c.ok else "FAIL"
            click.echo(f"{mark} {name}: {c.name}" + (f" — {c.detail}" if not c.ok and c.detail
                                                     else ""))
        failed += sum(not c.ok for c in report.checks)
    if failed:
        click.echo(f"{failed} check(s) failed", err=True)
        sys.exit(1)
    click.echo(f"all checks passed for {', '.join(names)}")


@click.command("release")
@click.argument("assignment")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Write the release into this folder.")
@click.option("--zip", "zip_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the release as this zip file.")
@course_option
@handles_errors
def release(assignment: str, out: Path | None, zip_path: Path | None,
            course: Path | None) -> None:
    """Build what students receive for ASSIGNMENT: exercises, data, the grader; no solutions.

    \b
    Example:
      grade release hw1 --out build/hw1
      grade release hw1 --zip build/hw1.zip
    """
    from grader.authoring.release import release as build
    from grader.course.files import available, find_root

    root = find_root(course)
    if assignment not in available(root):
        raise UsageError(f"unknown assignment {assignment!r}; here: {', '.join(available(root))}")
    for p in build(root, assignment, out, zip_path):
        click.echo(f"wrote {p}")


@click.command("init-ci")
@click.option("--dir", "target", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Where the workflow file goes (default: the course "
                                 "folder's .github/workflows; with --student, "
                                 ".github/workflows here).")
@click.option("--force", is_flag=True, help="Overwrite an existing workflow file.")
@click.option("--student", is_flag=True,
              help="A student repository's workflow: grade the public cases on every push.")
@click.option("--assignment", "assignments", multiple=True, metavar="NAME",
              help="With --student: the assignment to grade (repeatable; default: all here).")
@click.option("--submission", default="exercises/{name}.py", show_default=True,
              help="With --student: the file graded ({name} is the assignment).")
@click.option("--audit", "with_audit", is_flag=True,
              help="Run `grade verify --audit` (the mutation audit, its verdicts cached).")
@course_option
@handles_errors
def init_ci(target: Path | None, force: bool, student: bool, assignments: tuple[str, ...],
            submission: str, with_audit: bool, course: Path | None) -> None:
    """Write a GitHub Actions workflow: `grade verify` on every push (the course's
    repository), or with --student the public cases on every push, the per-item table
    in the job summary and the job failing short of full marks (a student's repository).

    Without --student, run it in the course repository (the folder with exercises/ and
    solutions/).  Where that repository is not the grader's own source, the grader goes
    with it as a wheel under .github/grader/, which the workflow installs (the grader is
    not on the package index).

    \b
    Example:
      grade init-ci           # writes .github/workflows/grade-verify.yml
      grade init-ci --student # writes .github/workflows/grade.yml
      grade init-ci --audit   # the course's workflow, also running the mutation audit
    """
    from grader.authoring.classroom import DEFAULT_SUBMISSION

    if not student and (assignments or submission != DEFAULT_SUBMISSION):
        raise UsageError("--assignment and --submission go with --student (a student "
                         "repository's workflow)")
    if student and with_audit:
        raise UsageError("--audit goes with the course's workflow, not --student (students "
                         "have no solutions/ to audit)")
    if not student:
        from grader.audit.gate import ci_workflow
        from grader.authoring.ci import init_ci as write

        for p in write(course, target, force=force, edit=ci_workflow if with_audit else None):
            click.echo(f"wrote {p}")
        return
    from grader.authoring.classroom import student_workflow
    from grader.course.files import available, find_root

    names = list(assignments) or available(find_root(course))
    target = target if target is not None else Path(".github/workflows")
    path = target / "grade.yml"
    if path.exists() and not force:
        raise UsageError(f"{path} exists: pass --force to overwrite it")
    target.mkdir(parents=True, exist_ok=True)
    path.write_text(student_workflow(names, submission), encoding="utf-8")
    click.echo(f"wrote {path}")
