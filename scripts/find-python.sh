#!/usr/bin/env bash
# Print the path of a working Python of one of the given versions (first one found wins, in
# the order given), or explain what to install. PATH first (a pyenv shim counts only if it
# actually runs), then pyenv's installed versions, newest patch release first.
#
#   scripts/find-python.sh 3.10          # the Rasa server's environment (.venv-rasa)
#   scripts/find-python.sh 3.13 3.12     # everything else (.venv)
set -u
[ $# -gt 0 ] || { echo "usage: $0 VERSION..." >&2; exit 2; }
works() {
  "$1" -c "import sys, venv; sys.exit(sys.version_info[:2] != tuple(map(int, '$2'.split('.'))))" \
    >/dev/null 2>&1
}
root=$( (pyenv root) 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
for version in "$@"; do
  for candidate in "python$version" "/usr/bin/python$version" "/usr/local/bin/python$version"; do
    path=$(command -v "$candidate" 2>/dev/null) || continue
    if works "$path" "$version"; then echo "$path"; exit 0; fi
  done
  for path in $(ls -d "$root"/versions/"$version".*/bin/python"$version" 2>/dev/null | sort -rV); do
    if works "$path" "$version"; then echo "$path"; exit 0; fi
  done
done
wanted=$(printf ' or %s' "$@"); wanted=${wanted# or }
cat >&2 <<MSG
No working Python $wanted found.
Rasa Open Source 3.6 runs on Python 3.10 only (in .venv-rasa); the gateway, the action server,
the services and the CLI run on Python 3.12 or 3.13 (in .venv).
Install one, for example:  pyenv install $1   or   apt-get install python$1 python$1-venv
MSG
exit 1
