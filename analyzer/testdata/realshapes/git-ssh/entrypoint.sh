#!/bin/sh
set -e

# Host keys are created on first start, so that each container has its own.
ssh-keygen -A

# Repositories named in $REPOS are created as the git user.
for repo in $REPOS; do
	if [ ! -d "/srv/git/repositories/$repo.git" ]; then
		su git -s /bin/sh -c "git init --bare /srv/git/repositories/$repo.git"
	fi
done

exec "$@"
