#!/usr/bin/env bash
# Print the path of a working Python 3.10 (Rasa 3.6 supports 3.8-3.10 only), or explain what
# to install. PATH first (a pyenv shim counts only if it actually runs), then pyenv's versions.
set -u
works() { "$1" -c 'import sys, venv; sys.exit(sys.version_info[:2] != (3, 10))' >/dev/null 2>&1; }
for candidate in python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10; do
  path=$(command -v "$candidate" 2>/dev/null) || continue
  if works "$path"; then echo "$path"; exit 0; fi
done
root=$( (pyenv root) 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
for path in $(ls -d "$root"/versions/3.10.*/bin/python3.10 2>/dev/null | sort -rV); do
  if works "$path"; then echo "$path"; exit 0; fi
done
cat >&2 <<'MSG'
No working Python 3.10 found (Rasa Open Source 3.6 needs Python 3.8-3.10).
Install one, for example:  pyenv install 3.10.13   or   apt-get install python3.10 python3.10-venv
MSG
exit 1
