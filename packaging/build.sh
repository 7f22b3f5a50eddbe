#!/usr/bin/env bash
# Builds portpanel_VERSION_amd64.deb with nfpm, pinned in go.mod as a tool
# (go tool nfpm): nothing is downloaded but Go modules.
#
#   packaging/build.sh [VERSION [OUTDIR]]
#
# VERSION defaults to one derived from git (see debian_version); a leading
# "v" is dropped. OUTDIR defaults to the current directory. Prints the path
# of the package. Check it with: lintian portpanel_VERSION_amd64.deb
set -euo pipefail
export PATH="$PATH:/usr/local/go/bin"
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

# debian_version turns git describe into a native Debian version that sorts
# as releases do: tag v1.2.3 gives 1.2.3, 4 commits later 1.2.3+4.gHASH, a
# tag v1.2.3-rc1 gives 1.2.3~rc1 (before 1.2.3). Without a release tag:
# 0.0~gitTIME.HASH, TIME being the commit's UTC time as in Go's pseudo-
# versions, so snapshots sort by commit and before any release. A tree with
# changes (as "portpanel version" reports "modified") adds +dirty.
debian_version() {
	local v dirty=""
	[ -z "$(git status --porcelain)" ] || dirty="+dirty"
	if v=$(git describe --tags --match 'v[0-9]*' 2>/dev/null); then
		v=${v#v}
		v=$(sed -E 's/-([0-9]+)-g([0-9a-f]+)$/+\1.g\2/' <<<"$v")
		v=${v//-/\~}
	else
		v="0.0~git$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y%m%d%H%M%S).$(git rev-parse --short=12 HEAD)"
	fi
	echo "$v$dirty"
}

version=${1:-}
if [ -z "$version" ]; then
	version=$(debian_version)
fi
version=${version#v}
# No "-": the package is native (its own upstream), so there is no Debian
# revision, and the changelog is changelog.gz (lintian checks the name).
if ! [[ $version =~ ^[0-9][A-Za-z0-9.+~]*$ ]]; then
	echo "build.sh: VERSION $version is not a native Debian version (a digit, then letters, digits, . + ~)" >&2
	exit 2
fi
outdir=${2:-.}
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

# Reproducible: file times in the package are the commit's (nfpm reads
# SOURCE_DATE_EPOCH), and -trimpath keeps build paths out of the binary.
SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || date +%s)
export SOURCE_DATE_EPOCH

# Stamped as every go build in a git tree is: "portpanel version" shows the
# module version, commit, time and whether the tree was modified. Stripped
# (-s -w: no symbol table, no DWARF) as Debian ships binaries; panics still
# name functions and lines.
# -buildvcs=true overrides a GOFLAGS=-buildvcs=false in go env.
CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -buildvcs=true -trimpath -ldflags='-s -w' -o "$stage/portpanel" .
if ! go version -m "$stage/portpanel" | grep -q 'vcs.revision='; then
	echo "build.sh: warning: the binary carries no commit (Go stamps it only from a .git directory, not from a git worktree's .git file): portpanel version will say unknown" >&2
fi

# The packaged unit is the repository's, with the binary where the package
# puts it and a pointer to its manual page. Fail rather than ship a unit
# that points at /usr/local/bin.
sed -e 's#^ExecStart=/usr/local/bin/portpanel #ExecStart=/usr/bin/portpanel #' \
	-e '/^Description=/a Documentation=man:portpanel(8)' portpanel.service >"$stage/portpanel.service"
if [ "$(grep -c '^ExecStart=/usr/bin/portpanel serve$' "$stage/portpanel.service")" != 1 ] ||
	grep -q /usr/local/bin "$stage/portpanel.service"; then
	echo "build.sh: portpanel.service has no single ExecStart=/usr/local/bin/portpanel serve line to rewrite" >&2
	exit 1
fi

# The agent's unit ships too, neither enabled nor started: it needs the
# control plane's address and an enrollment token first (README, "Many hosts").
sed -e 's#^ExecStart=/usr/local/bin/portpanel #ExecStart=/usr/bin/portpanel #' \
	-e '/^Description=/a Documentation=man:portpanel(8)' portpanel-agent.service >"$stage/portpanel-agent.service"
if [ "$(grep -c '^ExecStart=/usr/bin/portpanel agent$' "$stage/portpanel-agent.service")" != 1 ] ||
	grep -q /usr/local/bin "$stage/portpanel-agent.service"; then
	echo "build.sh: portpanel-agent.service has no single ExecStart=/usr/local/bin/portpanel agent line to rewrite" >&2
	exit 1
fi

maintainer=$(sed -n 's/^maintainer: //p' packaging/nfpm.yaml)
{
	echo "portpanel ($version) unstable; urgency=medium"
	echo
	echo "  * Built from commit $(git rev-parse HEAD 2>/dev/null || echo unknown)."
	echo
	echo " -- $maintainer  $(date -u -R -d "@$SOURCE_DATE_EPOCH")"
} | gzip -9n >"$stage/changelog.gz"

packaging/copyright.sh >"$stage/copyright"
packaging/manpage.sh "$stage/portpanel" "$version" "$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%d)" | gzip -9n >"$stage/portpanel.8.gz"

PORTPANEL_VERSION=$version PORTPANEL_STAGE=$stage \
	go tool nfpm package --config packaging/nfpm.yaml --packager deb --target "$outdir/portpanel_${version}_amd64.deb" >&2
echo "$outdir/portpanel_${version}_amd64.deb"
