#!/bin/sh
# Points the Fastly service's `origin` backend at the origin's host name, over TLS on port 443, in
# a clone of the active version, and activates that clone (docs/deploy.md, step 4).
#
#   FASTLY_SERVICE_ID=<service-id> deploy/fastly-point-backend.sh origin.leaderboard.example.com
#
# The Fastly CLI is this repository's (node_modules/.bin/fastly) unless FASTLY_CLI names another;
# its token comes from `fastly auth login` or FASTLY_API_TOKEN.
set -eu

usage='usage: FASTLY_SERVICE_ID=<service-id> deploy/fastly-point-backend.sh <origin host name>'
host=${1:?$usage}
: "${FASTLY_SERVICE_ID:?$usage}"
fastly=${FASTLY_CLI:-"$(dirname "$0")/../node_modules/.bin/fastly"}

# A Fanout backend honours only its name, address, "Enable TLS" and override host; the override
# host is also the site Caddy serves. The certificate and SNI names are for the edge's own fetches.
"$fastly" service backend update --version active --autoclone --name origin \
  --address "$host" --port 443 --use-ssl \
  --override-host "$host" --ssl-cert-hostname "$host" --ssl-sni-hostname "$host"
"$fastly" service version activate --version latest
"$fastly" service backend describe --version active --name origin
