#!/usr/bin/env bash
# Run RealWorld's Postman collection with newman against a served Conduit API, as RealWorld's own
# run-api-tests.sh does. The collection is RealWorld's (api/Conduit.postman_collection.json in the
# RealWorld project), not shipped here: COLLECTION names your copy.
#
#   COLLECTION=path/to/Conduit.postman_collection.json examples/conduit/run_postman.sh [APIURL]
#   COLLECTION=... examples/conduit/run_postman.sh http://127.0.0.1:8000/api --reporters cli,json
#
# Each run registers new users (USERNAME defaults to a fresh name), so it can run again and
# again against one database. newman is taken from $NEWMAN, then .tools/newman (where .ci/run
# installs it: npm install --prefix .tools/newman newman), then the PATH.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
APIURL="${1:-${APIURL:-http://127.0.0.1:8000/api}}"
[ "$#" -gt 0 ] && shift
USERNAME="${USERNAME:-u$(date +%s)$RANDOM}"
EMAIL="${EMAIL:-$USERNAME@mail.com}"
PASSWORD="${PASSWORD:-password}"
if [ -z "${NEWMAN:-}" ]; then
  if [ -x "$ROOT/.tools/newman/node_modules/.bin/newman" ]; then
    NEWMAN="$ROOT/.tools/newman/node_modules/.bin/newman"
  elif command -v newman >/dev/null 2>&1; then
    NEWMAN="$(command -v newman)"
  else
    echo "newman is not installed: npm install --prefix \"$ROOT/.tools/newman\" newman" >&2
    exit 127
  fi
fi
: "${COLLECTION:?set COLLECTION to the path of RealWorld Conduit.postman_collection.json}"
exec "$NEWMAN" run "$COLLECTION" \
  --global-var "APIURL=$APIURL" \
  --global-var "USERNAME=$USERNAME" \
  --global-var "EMAIL=$EMAIL" \
  --global-var "PASSWORD=$PASSWORD" \
  "$@"
