#!/usr/bin/env bash
# The script behind lint/github-action/action.yml (also usable in any CI): runs rill-lint over a
# compilation database and writes the three pull-request views from one run:
#   - SARIF for code scanning ($RILL_SARIF),
#   - the Markdown summary, appended to $GITHUB_STEP_SUMMARY when set (and kept in $RILL_MARKDOWN),
#   - GitHub annotations on stdout (workflow commands), for the changed lines.
# On a pull request ($GITHUB_EVENT_NAME pull_request*, base branch $GITHUB_BASE_REF) only the TUs
# affected by the change are linted and only findings on added or changed lines are reported
# (rill-lint --changed-since). Elsewhere the whole database is linted.
#
# Environment (all optional):
#   RILL_LINT        rill-lint executable (default: rill-lint on PATH)
#   RILL_BUILD_DIR   directory with compile_commands.json (default: build)
#   RILL_PATHS       space-separated sources/directories to lint (default: the whole database)
#   RILL_BASE_REF    git ref to compare with (default: origin/$GITHUB_BASE_REF, else $GITHUB_BASE_REF)
#   RILL_SARIF       SARIF output (default: rill-lint.sarif)
#   RILL_MARKDOWN    Markdown output (default: rill-lint.md)
#   RILL_CATEGORY    SARIF category (default: rill-lint)
#   RILL_BASELINE    a SARIF baseline (report only findings not in it)
#   RILL_FAIL_ON     'new' (default): exit 1 when there are new findings; 'none': only on errors
#   RILL_EXTRA_ARGS  more rill-lint arguments (word-split)
#   RILL_JOBS        parallel TUs (default: number of cores)
# Exit status: rill-lint's (2 on input errors), or 1 for new findings with RILL_FAIL_ON=new.
set -uo pipefail

lint=${RILL_LINT:-rill-lint}
build=${RILL_BUILD_DIR:-build}
sarif=${RILL_SARIF:-rill-lint.sarif}
md=${RILL_MARKDOWN:-rill-lint.md}
category=${RILL_CATEGORY:-rill-lint}
fail_on=${RILL_FAIL_ON:-new}
jobs=${RILL_JOBS:-0}
annotations=$(mktemp)
trap 'rm -f "$annotations"' EXIT

if [[ ! -f "$build/compile_commands.json" ]]; then
  echo "::error title=rill-lint::no $build/compile_commands.json (configure with -DCMAKE_EXPORT_COMPILE_COMMANDS=ON)"
  exit 2
fi

args=(-p "$build" -j "$jobs" --format=sarif --output "$sarif" --sarif-category "$category"
      "--report=markdown=$md" "--report=github=$annotations")

base=${RILL_BASE_REF:-}
if [[ -z "$base" && "${GITHUB_EVENT_NAME:-}" == pull_request* && -n "${GITHUB_BASE_REF:-}" ]]; then
  if git rev-parse --verify -q "origin/$GITHUB_BASE_REF^{commit}" >/dev/null; then
    base="origin/$GITHUB_BASE_REF"
  else
    # Shallow checkouts: fetch the base branch (deep enough for a merge base).
    git fetch --no-tags --quiet origin "$GITHUB_BASE_REF:refs/remotes/origin/$GITHUB_BASE_REF" 2>/dev/null &&
      base="origin/$GITHUB_BASE_REF" || base=$GITHUB_BASE_REF
  fi
fi
[[ -n "$base" ]] && args+=(--changed-since "$base")
[[ -n "${RILL_BASELINE:-}" ]] && args+=(--baseline "$RILL_BASELINE")
# shellcheck disable=SC2206
[[ -n "${RILL_EXTRA_ARGS:-}" ]] && args+=($RILL_EXTRA_ARGS)
# shellcheck disable=SC2206
[[ -n "${RILL_PATHS:-}" ]] && args+=($RILL_PATHS)

"$lint" "${args[@]}"
rc=$?

cat "$annotations"
if [[ -n "${GITHUB_STEP_SUMMARY:-}" && -f "$md" ]]; then
  cat "$md" >>"$GITHUB_STEP_SUMMARY"
fi
if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
  echo "sarif=$sarif" >>"$GITHUB_OUTPUT"
  echo "markdown=$md" >>"$GITHUB_OUTPUT"
  echo "findings=$(grep -c '^::\(warning\|error\) ' "$annotations")" >>"$GITHUB_OUTPUT"
fi
if ((rc == 0)) && [[ "$fail_on" == new ]] && grep -q '^::\(warning\|error\) ' "$annotations"; then
  rc=1
fi
exit "$rc"
