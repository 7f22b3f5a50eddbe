#!/usr/bin/env bash
# Writes /usr/share/doc/portpanel/copyright on stdout: portpanel's own
# notice, then the license of the Go standard library and of every module
# linked into the binary, read from the module sources the build used, so
# the list follows go.mod without being kept by hand.
set -euo pipefail
export PATH="$PATH:/usr/local/go/bin"
cd "$(dirname "$0")/.."

cat <<'EOF'
portpanel: web panel for the Linux ephemeral port range

Copyright: the portpanel maintainers
License: the portpanel source states no license; ask its maintainers before
 redistributing it.

/usr/bin/portpanel is a statically linked Go program. It contains the Go
standard library and the Go modules listed below; each is under its own
license, reproduced here from the module's source.
EOF

# license_of prints the license files of the module in dir. Debian's
# policy (12.5) refers to the Apache 2.0 text in /usr/share/common-licenses
# rather than repeating it (lintian checks); NOTICE files are kept whole.
license_of() {
	local dir=$1 f found=""
	for f in "$dir"/LICENSE* "$dir"/LICENCE* "$dir"/COPYING* "$dir"/NOTICE*; do
		[ -f "$f" ] || continue
		found=1
		echo
		echo "-- ${f##*/}"
		echo
		if grep -q 'Apache License' "$f" && grep -q 'Version 2.0, January 2004' "$f"; then
			echo "Apache License 2.0: /usr/share/common-licenses/Apache-2.0"
		else
			cat "$f"
		fi
	done
	if [ -z "$found" ]; then
		echo "build: no license file in $dir" >&2
		return 1
	fi
}

echo
echo "== Go standard library ($(go env GOVERSION))"
license_of "$(go env GOROOT)"

# The modules of the packages the binary is built from, as build.sh builds
# it (no cgo, linux/amd64); test-only modules are not in the binary.
CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go list -deps \
	-f '{{with .Module}}{{if not .Main}}{{.Path}} {{.Version}} {{.Dir}}{{end}}{{end}}' . |
	sort -u |
	while read -r path version dir; do
		echo
		echo "== $path $version"
		license_of "$dir"
	done
