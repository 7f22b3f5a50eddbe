#!/usr/bin/env bash
# Writes portpanel(8) on stdout from the built binary's own help, so the
# manual page lists exactly the commands and flags that binary has.
#
#   packaging/manpage.sh BINARY VERSION DATE
set -euo pipefail
bin=$1 version=$2 date=$3

# roff: a backslash is \e, a hyphen in a flag is a minus (\-), and a line
# starting with . or ' would be a request.
roff() { sed -e 's/\\/\\e/g' -e 's/-/\\-/g' -e "s/^\([.']\)/\\\\\&\1/"; }

cat <<EOF
.TH PORTPANEL 8 "$date" "portpanel $version" "System Administration"
.SH NAME
portpanel \- web panel for the Linux ephemeral port range
.SH SYNOPSIS
.nf
EOF
"$bin" --help | sed -n 's/^  portpanel/portpanel/p' | roff
cat <<'EOF'
.fi
.SH DESCRIPTION
.B portpanel serve
is a web panel and JSON API that shows and changes
.IR net.ipv4.ip_local_port_range :
the runtime value, the value the host boots with, and port usage.
Every change is previewed, recorded with its reason and audited; it can be
approved by a second person, confirmed or reverted automatically, and rolled
back.
On first start with no users it prints a one\-time setup link that creates
the first administrator.
The other commands manage users, API tokens and the audit log in the
database directly.
.PP
The packaged service, portpanel.service, runs
.B portpanel serve
on 127.0.0.1:8080; its settings are in
.IR /etc/default/portpanel .
.SH OPTIONS OF SERVE
Every flag can also be set by the environment variable named with it.
.PP
.nf
EOF
"$bin" serve -h 2>&1 | sed 1d | roff
cat <<'EOF'
.fi
.SH FILES
.TP
.I /etc/default/portpanel
settings of portpanel.service (PORTPANEL_* variables)
.TP
.I /var/lib/portpanel/portpanel.db
the database: users, sessions, changes, the audit log
.TP
.I /etc/sysctl.d/90\-portpanel.conf
the file the service writes the range to
.SH SEE ALSO
.BR sysctl.d (5),
.BR systemd.exec (5),
.I /usr/share/doc/portpanel/
EOF
