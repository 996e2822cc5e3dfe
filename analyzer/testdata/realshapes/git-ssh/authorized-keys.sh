#!/bin/sh
# Prints the keys allowed to log in as $1, from the key service.
exec wget -q -O - "http://keys.internal/users/$1/ssh-keys"
