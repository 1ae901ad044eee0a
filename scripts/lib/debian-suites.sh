# Debian suites other than the host's own, without naming any mirror.
# Sourced by the scripts that need a newer suite: qemu from backports
# (installed on the host), kernels from trixie-backports and sid (downloaded
# and unpacked only), userlands for chroots and VM images (mmdebstrap).
#
# The mirror is whatever this machine's apt already uses for its own release
# (/etc/apt/sources.list.d/*.sources or sources.list). Suites other than the
# host's backports never enter the host's apt configuration: they get a
# private apt state under $XSKIT_CACHE/apt/<suite>, so nothing from them can
# be installed on the host, let alone upgrade its libraries.
#
#   xskit_debian_mirror            prints the archive URI (exit 1: none found)
#   xskit_host_codename            prints e.g. bookworm
#   xskit_suite_apt SUITE          sets XSKIT_APT_OPTS (an array) to apt options
#                                  that read SUITE's lists only; updates them
#                                  when missing or older than a day
#   xskit_enable_backports         adds <codename>-backports to the host's apt
#                                  (priority 100: nothing comes from it unless
#                                  asked for with -t) and runs apt-get update

: "${XSKIT_CACHE:=/var/cache/xskit}"
XSKIT_DEBIAN_KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

xskit_host_codename() {
  # shellcheck disable=SC1091
  (. /etc/os-release && echo "${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release}")
}

# The first archive URI whose suites include the host's codename (not its
# -security suite), from deb822 files first, then one-line lists.
xskit_debian_mirror() {
  local codename uri
  codename=$(xskit_host_codename) || return 1
  uri=$(awk -v cn="$codename" '
      function flush() {
        if (types ~ /(^|[ \t])deb([ \t]|$)/ && enabled != "no")
          for (i = 1; i <= ns; i++) if (s[i] == cn) { split(uris, u, /[ \t]+/); print u[1]; exit }
        types = ""; uris = ""; ns = 0; enabled = ""
      }
      /^[ \t]*$/ { flush(); next }
      /^#/ { next }
      /^Types:/ { sub(/^Types:[ \t]*/, ""); types = $0 }
      /^URIs:/ { sub(/^URIs:[ \t]*/, ""); uris = $0 }
      /^Enabled:/ { sub(/^Enabled:[ \t]*/, ""); enabled = tolower($0) }
      /^Suites:/ { sub(/^Suites:[ \t]*/, ""); ns = split($0, s, /[ \t]+/) }
      END { flush() }' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)
  if [[ -z "$uri" && -r /etc/apt/sources.list ]]; then
    uri=$(awk -v cn="$codename" '
        $1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                      if ($(i + 1) == cn) { print $i; exit } }' /etc/apt/sources.list)
  fi
  [[ -n "$uri" ]] || { echo "no Debian archive for $codename in this machine's apt sources" >&2; return 1; }
  echo "${uri%/}"
}

xskit_suite_apt() {
  local suite=$1 dir mirror
  dir=$XSKIT_CACHE/apt/$suite
  mirror=$(xskit_debian_mirror) || return 1
  mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/parts" "$dir/prefs"
  : >> "$dir/status"
  echo "deb [signed-by=$XSKIT_DEBIAN_KEYRING] $mirror $suite main" > "$dir/sources.list"
  XSKIT_APT_OPTS=(
    -o "Dir::Etc::SourceList=$dir/sources.list" -o "Dir::Etc::SourceParts=$dir/parts"
    -o "Dir::Etc::Preferences=$dir/prefs/none" -o "Dir::Etc::PreferencesParts=$dir/prefs"
    -o "Dir::State::Lists=$dir/lists" -o "Dir::State::status=$dir/status"
    -o "Dir::Cache=$dir/cache" -o "APT::Get::List-Cleanup=0"
  )
  if [[ -z $(find "$dir/lists" -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null) ]]; then
    apt-get "${XSKIT_APT_OPTS[@]}" update -qq >&2 ||
      { echo "apt-get update of $suite (private lists in $dir) failed" >&2; return 1; }
  fi
}

xskit_enable_backports() {
  local codename mirror file=/etc/apt/sources.list.d/xskit-backports.sources
  codename=$(xskit_host_codename) || return 1
  mirror=$(xskit_debian_mirror) || return 1
  if [[ ! -e $file ]] || ! grep -q "$codename-backports" "$file"; then
    printf 'Types: deb\nURIs: %s\nSuites: %s-backports\nComponents: main\nSigned-By: %s\n' \
      "$mirror" "$codename" "$XSKIT_DEBIAN_KEYRING" > "$file"
    # Backports are NotAutomatic already; say it here too, so nothing but
    # what is installed with -t <codename>-backports ever comes from them.
    printf 'Package: *\nPin: release n=%s-backports\nPin-Priority: 100\n' "$codename" \
      > /etc/apt/preferences.d/xskit-backports
    apt-get update -qq
  fi
}
