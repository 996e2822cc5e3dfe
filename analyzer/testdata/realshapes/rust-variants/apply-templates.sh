#!/usr/bin/env bash
set -Eeuo pipefail
# renders Dockerfile-<variant>.template into each version/variant folder
for dir in */*/ */*/*/; do
	variant="$(basename "$dir")"
	case "$variant" in alpine*) template=alpine ;; slim) template=slim ;; *) template=debian ;; esac
	jq -r -L. 'include "jq-template"; .' "Dockerfile-$template.template" > "$dir/Dockerfile"
done
