#!/usr/bin/env bash
# Writes portpanel(8) on stdout. The binary writes it itself ("portpanel
# man", hidden from the help) from the same command definitions that parse
# its command line, so the manual lists exactly the commands, flags,
# examples and exit statuses that binary has.
#
#   packaging/manpage.sh BINARY VERSION DATE
set -euo pipefail
bin=$1 version=$2 date=$3
# Defaults shown in the page are the flags' own, not this shell's.
for v in $(compgen -e | grep '^PORTPANEL_' || true); do unset "$v"; done
"$bin" man --version "$version" --date "$date"
