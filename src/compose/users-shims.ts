/**
 * Fallback `useradd`, `groupadd` and `getent` for trees that lack them.
 *
 * Decision: when the tree has its own shadow-utils (`/usr/sbin/useradd`) or `getent`, that
 * binary runs — it is the tree's own tool editing the tree's own files, exactly what rpm
 * would do. Only when a command is MISSING from the tree do we bind one of these shims into
 * the sandbox (at SHIM_DIR, on a tmpfs, first in PATH). They are small POSIX sh scripts that
 * use nothing but shell builtins, so they work with any /bin/sh (bash, dash, busybox ash)
 * and need no other binary in the tree.
 *
 * What they support (what %pre scripts in the wild use):
 *   groupadd [-r] [-f] [-g GID] [-o] NAME
 *   useradd  [-r] [-u UID] [-o] [-g GROUP] [-G G1,G2] [-d HOME] [-s SHELL] [-c COMMENT]
 *            [-M|-m] [-N|-U] [-l] [-K KEY=VAL] [-p PW] NAME
 *   getent   passwd|group [KEY...]
 * Id allocation follows shadow-utils: system ids (-r) take the highest free id in
 * SYS_UID_MIN..SYS_UID_MAX (default 101..999), others the lowest free in UID_MIN..UID_MAX
 * (default 1000..60000), both read from the tree's /etc/login.defs when present; a user's
 * own group gets the uid as gid when that is free. Exit codes are shadow-utils' (2 usage,
 * 4 id in use, 6 no such group, 9 name in use). Not supported: creating home directories
 * (`-m` is accepted and ignored: a %pre of an image build must not populate /home),
 * password hashing, SELinux contexts.
 */
export const SHIM_DIR = '/tmp/.layer-shims';

// `${D}{x}` writes a shell `${x}` inside the template literals below.
const D = '$';

/** Commands the shims replace, and where the tree's own binary would be. */
export const SHIMMED: readonly (readonly [command: string, treePath: string])[] = [
  ['useradd', '/usr/sbin/useradd'],
  ['groupadd', '/usr/sbin/groupadd'],
  ['getent', '/usr/bin/getent'],
];

// Shared helpers: login.defs lookup and free-id search over a colon file's 3rd field.
const COMMON = String.raw`
defs() { # defs KEY DEFAULT
  v=$2
  if [ -r /etc/login.defs ]; then
    while read -r k val _; do [ "$k" = "$1" ] && v=$val; done < /etc/login.defs
  fi
  echo "$v"
}
ids() { # the third fields of a colon file, space separated
  out=' '
  [ -r "$1" ] && while IFS=: read -r _ _ id _; do out="$out$id "; done < "$1"
  echo "$out"
}
names() {
  out=' '
  [ -r "$1" ] && while IFS=: read -r n _; do out="$out$n "; done < "$1"
  echo "$out"
}
inlist() { case "$2" in *" $1 "*) return 0;; esac; return 1; }
freeid() { # freeid USED SYSTEM(0|1) KIND(UID|GID)
  if [ "$2" = 1 ]; then
    i=$(defs SYS_$3_MAX 999); lo=$(defs SYS_$3_MIN 101)
    while [ "$i" -ge "$lo" ]; do inlist "$i" "$1" || { echo "$i"; return 0; }; i=$((i - 1)); done
  else
    i=$(defs $3_MIN 1000); hi=$(defs $3_MAX 60000)
    while [ "$i" -le "$hi" ]; do inlist "$i" "$1" || { echo "$i"; return 0; }; i=$((i + 1)); done
  fi
  return 1
}
`;

const GROUPADD = String.raw`#!/bin/sh
# layer's fallback groupadd (the tree has none); see src/compose/users-shims.ts.
${COMMON}
sys=0 force=0 gid= dup=0 name=
while [ $# -gt 0 ]; do
  case "$1" in
    -r|--system) sys=1 ;;
    -f|--force) force=1 ;;
    -o|--non-unique) dup=1 ;;
    -g|--gid) gid=$2; shift ;;
    -K|--key|-p|--password) shift ;;
    -*) echo "groupadd: unsupported option $1 (layer fallback groupadd)" >&2; exit 2 ;;
    *) name=$1 ;;
  esac
  shift
done
[ -n "$name" ] || { echo "groupadd: missing group name" >&2; exit 2; }
if inlist "$name" "$(names /etc/group)"; then
  [ "$force" = 1 ] && exit 0
  echo "groupadd: group '$name' already exists" >&2; exit 9
fi
used=$(ids /etc/group)
if [ -n "$gid" ] && [ "$dup" = 0 ] && inlist "$gid" "$used"; then
  [ "$force" = 1 ] || { echo "groupadd: GID '$gid' already exists" >&2; exit 4; }
  gid=
fi
[ -n "$gid" ] || gid=$(freeid "$used" "$sys" GID) || { echo "groupadd: no free GID" >&2; exit 4; }
printf '%s:x:%s:\n' "$name" "$gid" >> /etc/group
[ -f /etc/gshadow ] && printf '%s:!::\n' "$name" >> /etc/gshadow
exit 0
`;

const USERADD = String.raw`#!/bin/sh
# layer's fallback useradd (the tree has none); see src/compose/users-shims.ts.
${COMMON}
sys=0 uid= dup=0 group= groups= home= shell= comment= usergroup=1 name=
while [ $# -gt 0 ]; do
  case "$1" in
    -r|--system) sys=1 ;;
    -u|--uid) uid=$2; shift ;;
    -o|--non-unique) dup=1 ;;
    -g|--gid) group=$2; shift ;;
    -G|--groups) groups=$2; shift ;;
    -d|--home|--home-dir) home=$2; shift ;;
    -s|--shell) shell=$2; shift ;;
    -c|--comment) comment=$2; shift ;;
    -N|--no-user-group) usergroup=0 ;;
    -U|--user-group) usergroup=1 ;;
    -M|--no-create-home|-m|--create-home|-l|--no-log-init) ;;
    -K|--key|-p|--password|-e|--expiredate|-f|--inactive) shift ;;
    -*) echo "useradd: unsupported option $1 (layer fallback useradd)" >&2; exit 2 ;;
    *) name=$1 ;;
  esac
  shift
done
[ -n "$name" ] || { echo "useradd: missing user name" >&2; exit 2; }
if inlist "$name" "$(names /etc/passwd)"; then echo "useradd: user '$name' already exists" >&2; exit 9; fi
used=$(ids /etc/passwd)
if [ -n "$uid" ] && [ "$dup" = 0 ] && inlist "$uid" "$used"; then echo "useradd: UID $uid is not unique" >&2; exit 4; fi
[ -n "$uid" ] || uid=$(freeid "$used" "$sys" UID) || { echo "useradd: no free UID" >&2; exit 4; }
gid=
if [ -n "$group" ]; then
  while IFS=: read -r n _ g _; do
    if [ "$n" = "$group" ] || [ "$g" = "$group" ]; then gid=$g; break; fi
  done < /etc/group
  [ -n "$gid" ] || { echo "useradd: group '$group' does not exist" >&2; exit 6; }
elif [ "$usergroup" = 1 ]; then
  if inlist "$name" "$(names /etc/group)"; then
    echo "useradd: group $name exists - if you want to add this user to that group, use -g." >&2; exit 9
  fi
  gused=$(ids /etc/group)
  if inlist "$uid" "$gused"; then gid=$(freeid "$gused" "$sys" GID) || exit 4; else gid=$uid; fi
  printf '%s:x:%s:\n' "$name" "$gid" >> /etc/group
  [ -f /etc/gshadow ] && printf '%s:!::\n' "$name" >> /etc/gshadow
else
  gid=$(defs USERS_GID 100)
fi
[ -n "$home" ] || home=/home/$name
[ -n "$shell" ] || shell=/bin/sh
printf '%s:x:%s:%s:%s:%s:%s\n' "$name" "$uid" "$gid" "$comment" "$home" "$shell" >> /etc/passwd
[ -f /etc/shadow ] && printf '%s:!:::::::\n' "$name" >> /etc/shadow
if [ -n "$groups" ]; then
  # Append NAME to each supplementary group's member list, rewriting /etc/group in place.
  new=
  while IFS= read -r line; do
    n=${D}{line%%:*}
    case ",$groups," in
      *",$n,"*) case "$line" in *:) line="$line$name" ;; *) line="$line,$name" ;; esac ;;
    esac
    new="$new$line
"
  done < /etc/group
  printf '%s' "$new" > /etc/group
fi
exit 0
`;

const GETENT = String.raw`#!/bin/sh
# layer's fallback getent (the tree has none): passwd and group databases from files only.
db=$1; shift 2>/dev/null
case "$db" in
  passwd|group) ;;
  *) echo "getent: unsupported database '$db' (layer fallback getent)" >&2; exit 1 ;;
esac
files=/etc/$db
[ -r /usr/lib/$db ] && files="$files /usr/lib/$db"
if [ $# -eq 0 ]; then for f in $files; do while IFS= read -r l; do echo "$l"; done < "$f"; done; exit 0; fi
rc=0
for key in "$@"; do
  found=0
  for f in $files; do
    [ -r "$f" ] || continue
    while IFS= read -r l; do
      n=${D}{l%%:*}; rest=${D}{l#*:}; rest=${D}{rest#*:}; id=${D}{rest%%:*}
      if [ "$n" = "$key" ] || [ "$id" = "$key" ]; then echo "$l"; found=1; break; fi
    done < "$f"
    [ "$found" = 1 ] && break
  done
  [ "$found" = 1 ] || rc=2
done
exit $rc
`;

/** The shim scripts, by command name. */
export const SHIM_SCRIPTS: Readonly<Record<string, string>> = {
  useradd: USERADD,
  groupadd: GROUPADD,
  getent: GETENT,
};
