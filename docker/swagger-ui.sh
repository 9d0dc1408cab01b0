#!/bin/sh
# Refreshes lbhealth/app/swagger_ui/ (the assets /docs serves) from the npm registry's
# swagger-ui-dist, Swagger UI's own distribution: ./docker/swagger-ui.sh 5.35.0
# Only the bundle, its stylesheet and their licences are kept; VERSION records the release
# (tests/test_openapi.py checks the bundle is that release).
set -eu
cd "$(dirname "$0")/.."
version="${1:?usage: docker/swagger-ui.sh VERSION}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "swagger-ui-dist@$version" >/dev/null && tar xzf swagger-ui-dist-*.tgz)
dest=lbhealth/app/swagger_ui
for f in swagger-ui-bundle.js swagger-ui.css LICENSE NOTICE swagger-ui-bundle.js.LICENSE.txt; do
    cp "$tmp/package/$f" "$dest/$f"
done
echo "$version" >"$dest/VERSION"
