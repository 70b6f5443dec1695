#!/usr/bin/env bash
# Install the local PDS harness (`npm ci`), or do nothing when node_modules already matches the lockfile and
# the Node version it was built for. better-sqlite3 compiles from source when no prebuilt binary can be
# fetched, so node-gyp must find the headers of the Node that will run it (npm_config_nodedir).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "install.sh: node and npm are needed for the Bluesky PDS harness; skipping" >&2
    exit 0
fi

node_abi="$(node -p 'process.version + " abi " + process.versions.modules')"
wanted="$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1) $node_abi"
stamp="node_modules/.herald-install-stamp"

if [[ -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]]; then
    exit 0
fi

if [[ -z "${npm_config_nodedir:-}" ]]; then
    node_prefix="$(dirname "$(dirname "$(node -p process.execPath)")")"
    if [[ -f "$node_prefix/include/node/node.h" ]]; then
        export npm_config_nodedir="$node_prefix"
    else
        echo "install.sh: no Node headers under $node_prefix/include/node; node-gyp will try to download them" >&2
    fi
fi

echo "install.sh: installing the PDS harness (npm ci, compiles better-sqlite3; about a minute)" >&2
npm_config_update_notifier=false npm ci --no-audit --no-fund --loglevel=error
# Fail here, not in the middle of a test run, when the native module did not build.
node -e "new (require('better-sqlite3'))(':memory:').close()"
echo "$wanted" > "$stamp"
