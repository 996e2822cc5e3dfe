#!/usr/bin/env bash
set -Eeuo pipefail

# Renders every <major>/<variant>/Dockerfile from the template of its
# distribution and the data in versions.json. Run ./update.sh first.

[ -f versions.json ]
jqt='.jq-template.awk'
if [ -n "${BASHBREW_SCRIPTS:-}" ]; then
	jqt="$BASHBREW_SCRIPTS/jq-template.awk"
elif [ "$BASH_SOURCE" -nt "$jqt" ]; then
	wget -qO "$jqt" 'https://github.com/docker-library/bashbrew/raw/master/scripts/jq-template.awk'
fi

generated_warning() {
	cat <<-EOH
		#
		# NOTE: THIS DOCKERFILE IS GENERATED VIA "apply-templates.sh"
		#
		# PLEASE DO NOT EDIT IT DIRECTLY.
		#

	EOH
}

for version in $(jq -r 'keys | map(@sh) | join(" ")' versions.json | xargs); do
	export version
	for variant in $(jq -r --arg v "$version" '.[$v].variants[]' versions.json); do
		export variant
		dir="$version/$variant"
		mkdir -p "$dir"
		case "$variant" in
			alpine*) template='Dockerfile-alpine.template' ;;
			*) template='Dockerfile-debian.template' ;;
		esac
		echo "processing $dir ..."
		{
			generated_warning
			gawk -f "$jqt" "$template"
		} > "$dir/Dockerfile"
		case "$variant" in
			alpine*) sed -e 's/gosu/su-exec/g' docker-entrypoint.sh > "$dir/docker-entrypoint.sh" ;;
			*) cp -a docker-entrypoint.sh "$dir/" ;;
		esac
		chmod +x "$dir/docker-entrypoint.sh"
	done
done
