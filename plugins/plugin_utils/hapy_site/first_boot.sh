# eole.hapy - first boot of an EOLE guest. OpenNebula's one-context runs it at every boot (START_SCRIPT_BASE64 of
# the VM's context, built by hapy_site/context.py), with the context's variables in its environment. It does its
# work once:
#   1. the marker /etc/eole/.hapy-instance-done ends every later run at once (a failed run leaves none: the next
#      boot tries again);
#   2. generated mode: /etc/eole/config.eol from EOLE_CONFIG_EOL_BASE64 (checked as JSON, mode 0600); Zéphir mode
#      (no EOLE_CONFIG_EOL_BASE64): the config.eol comes from Zéphir with the registration;
#   3. ZEPHIR_ADDRESS set and the guest not yet registered: enregistrement_zephir, its prompts answered (server
#      ZEPHIR_ID, menu choice ZEPHIR_MENU);
#   4. EOLE_UPDATE=YES: Maj-Auto (through PROXY when set);
#   5. EOLE_INSTANCE_UNATTENDED=YES (EOLE >= 2.8.1) and EOLE's instance-unattended installed: instance-unattended
#      --file-passwords FILE; otherwise instance, its prompts answered by pattern (EOLE's own answers);
#   6. root and eole get EOLE_ROOT_PASSWORD_HASH_BASE64 (a SHA-512 crypt hash) with usermod -p;
#   7. the marker, then poweroff when HAPY_HALT=YES (the next boot comes with NETCFG_TYPE=none).
# Passwords: root's and eole's are one-time random ones made here and replaced by the hash in step 6; the AD
# administrator's (addc) is HAPY_ADDC_PASSWORD_BASE64, given to the VM alone at its creation and removed from it
# once the guest is installed. instance-unattended's password file lives in a 0700 directory of /run (tmpfs),
# mode 0600, and is removed on exit whatever happens. Secrets are never written to the log.
# Time-outs (seconds): HAPY_INSTANCE_TIMEOUT for instance (default 7200), 900 for the registration, 3600 for
# Maj-Auto; a command still running then is killed with its children and its step fails.
# Log: /var/log/hapy-instance.log (mode 0600, every command's output). Status: /var/log/hapy-instance.status, one
# line STEP:STATE:detail (Hâpy's format: STATE RUNNING, OK or ERROR), also set as the VM attribute
# HAPY_INSTANCE_STATUS through OneGate when the VM has a OneGate endpoint.
set -uo pipefail

readonly LOG=/var/log/hapy-instance.log STATUS=/var/log/hapy-instance.status
readonly MARKER=/etc/eole/.hapy-instance-done CONFIG=/etc/eole/config.eol
readonly UNATTENDED=/usr/share/eole/sbin/instance-unattended
readonly INSTANCE_TIMEOUT=${HAPY_INSTANCE_TIMEOUT:-7200}

[[ -e $MARKER ]] && exit 0
umask 077
: >>"$LOG" && chmod 0600 "$LOG"
exec >>"$LOG" 2>&1 </dev/null

status() {  # status STEP STATE [detail]: the status file, the log, OneGate when the VM has an endpoint
  local line="$1:$2:${3:-}"
  printf '%s\n' "$line" >"$STATUS.new" && chmod 0644 "$STATUS.new" && mv -f "$STATUS.new" "$STATUS"
  printf '== %s %s\n' "$(date -Is)" "$line"
  if [[ -n ${ONEGATE_ENDPOINT:-} ]] && command -v onegate >/dev/null 2>&1; then
    onegate vm update --data "HAPY_INSTANCE_STATUS=\"${line//\"/\'}\"" >/dev/null 2>&1 \
      || echo "(OneGate did not take the status)"
  fi
}
fail() { status "$1" ERROR "$2"; exit 1; }
decoded() { local value=${!1:-}; [[ -z $value ]] || printf '%s' "$value" | base64 -d; }

work=$(mktemp -d /run/hapy-instance.XXXXXX) || fail START "cannot make a private directory in /run"
trap 'rm -rf -- "$work"' EXIT
status START RUNNING "EOLE ${EOLE_RELEASE:-?}, VM ${VM_NAME:-${SET_HOSTNAME:-?}}"

zephir_password=$(decoded ZEPHIR_PASSWORD_BASE64) || fail START "ZEPHIR_PASSWORD_BASE64 is not base64"
addc_password=$(decoded HAPY_ADDC_PASSWORD_BASE64) || fail START "HAPY_ADDC_PASSWORD_BASE64 is not base64"
unset ZEPHIR_PASSWORD_BASE64 HAPY_ADDC_PASSWORD_BASE64  # no child process inherits them

cat >"$work/run.py" <<'PY'
"""run.py [--answer instance|zephir] TIMEOUT -- COMMAND...: COMMAND in a pty (output to stdout), killed with its
children after TIMEOUT seconds (exit 124). With --answer, each prompt is answered once the command waits on it
(its output quiet on an unfinished line): of the table's questions found in its last 8 lines, the one on the
latest line wins, the first of the table on the same line;
secrets come from HAPY_SECRET_* (removed from the environment before COMMAND starts), never shown; an unknown
yes/no question gets "non"; a question answered more often than its limit ends the run (exit 125)."""
import os
import pty
import re
import select
import signal
import sys
import termios
import time
import unicodedata

SETTLE = 0.4  # seconds of silence after which an unfinished line is a prompt waiting for its answer
INSTANCE = [  # EOLE's own answers (scripts/monitor3/monitor_eole_ci4.py and instance-unattended, EOLE's CI)
    (r"continuer instanciation quand", "oui"),
    (r"mettre a jour les bases de filtrage maintenant", "oui"),
    (r"voulez-vous continuer ?\?? *\[(oui/non|non/oui)\]", "oui"),
    (r"ces paquets ne sont pas classes stables", "oui"),
    (r"remplacer l.ancien certificat auto-signe", "oui"),
    (r"l.ensemble des conteneurs va etre arrete, voulez-vous continuer", "oui"),
    (r"image (par defaut )?des clients legers", "oui"),
    (r"\(re\)synchroniser les mots de passe des utilisateurs", "oui"),
    (r"une mise a jour est recommandee", "non"),
    (r"le serveur au domaine maintenant|relancer l.integration|joindre un domaine maintenant", "non"),
    (r"acceptez-vous l.envoi de la description", "non"),
    (r"l.annuaire ldap \(attention|un nouvel administrateur eole", "non"),
    (r"un redemarrage est necessaire", "non"),
    (r"reinitiali?ser la base esu|reinitialiser la base arv|catalogue bacula a deja ete initialise", "non"),
    (r"configurer le reseau virtuel prive maintenant", "non"),
    (r"configurer la haute disponibilite|synchroniser les noeuds|attendre que le script synchro-nodes", "non"),
    (r"le cache lxc est deja present", "non"),
    (r"active directory .?(administrator|admin).? password|mot de passe .?(administrator|admin).? active directory"
     r"|mot de passe de l.administrateur (active directory|du contr.leur de domaine)"
     r"|mot de passe de l.utilisateur administrator|mot de passe de jonction au domaine", "@HAPY_SECRET_ADDC"),
    (r"(mot de passe|password)[^\n]*: *$", "@HAPY_SECRET_PASSWORD"),
]
ZEPHIR = [  # enregistrement_zephir's prompts, as EOLE's CI answers them when a server id already exists
    (r"configuration reseau minimale \(o/n\)", "N"),
    (r"entrez l.adresse (\(nom dns\) )?du serveur", "$ZEPHIR_ADDRESS"),
    (r"entrez votre login (pour l.application zephir|zephir) \(rien pour sortir\)", "$ZEPHIR_USER", 3),
    (r"mot de passe (pour l.application zephir pour|zephir pour)", "@HAPY_SECRET_ZEPHIR", 3),
    (r"creer le serveur dans la base", "N"),
    (r"rien pour saisir directement un n. de serveur", ""),
    (r"entrez le n. *identifiant le serveur", "$ZEPHIR_ID"),
    (r"le module du serveur choisi est", "oui"),
    (r"(materiel|processeur|disque dur| module| variante|etablissement du serveur) \(", ""),
    (r"nom de l.installateur|telephone de l.installateur|commentaires|delai entre deux connexions a zephir", ""),
    (r"une procedure d.enregistrement a deja eu lieu pour ce serveur", "O"),
    (r"ce serveur est deja enregistre sur", "3"),
    (r"configuration des communications vers", "$ZEPHIR_MENU"),
]
ERRORS = (r"traceback \(most recent call last\)", r"impossible d.acceder aux variables creole",
          r"aucun espace disponible sur le peripherique", r"relancer gen_conteneurs", r"maj : erreur",
          r"l.etablissement doit exister dans la base zephir", r"erreur d.authentification")
YES_NO = re.compile(r"(\[(oui/non|non/oui)\]|\((o/n|oui/non)\))[^\n]*$", re.I)


def plain(text):
    """Lower case without accents (EOLE's terminals do not always keep them)."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).lower()


def say(text):
    sys.stdout.write(f"\n[hapy] {text}\n")
    sys.stdout.flush()


def descendants(root):
    """``root`` and every process below it (from /proc)."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def kill_tree(root):
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in descendants(root):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        for _ in range(50):
            if os.waitpid(root, os.WNOHANG)[0]:
                return
            time.sleep(0.2)


def main(argv):
    table = None
    if argv[0] == "--answer":
        table, argv = argv[1], argv[2:]
    timeout, command = float(argv[0]), argv[2:]
    secrets = {key: os.environ.pop(key) for key in list(os.environ) if key.startswith("HAPY_SECRET_")}
    entries = [(re.compile(e[0]), e[1], e[2] if len(e) > 2 else 10) for e in {"instance": INSTANCE,
                                                                             "zephir": ZEPHIR}.get(table, [])]
    errors = [re.compile(e) for e in ERRORS]
    deadline = time.monotonic() + timeout
    pid, fd = pty.fork()
    if pid == 0:
        mode = termios.tcgetattr(0)
        mode[3] &= ~termios.ECHO  # what is typed (passwords) is never echoed into the log
        termios.tcsetattr(0, termios.TCSANOW, mode)
        try:
            os.execvp(command[0], command)
        except OSError as exc:
            print(f"cannot run {command[0]}: {exc}")
            os._exit(127)
    pending, seen_error, answered, last_output, warned = "", False, {}, time.monotonic(), False
    while True:
        now = time.monotonic()
        if now >= deadline:
            say(f"time-out: {' '.join(command)} still running after {timeout:.0f} s, stopped with its children;"
                f" last output: {pending[-300:]!r}")
            kill_tree(pid)
            return 124
        ready = select.select([fd], [], [], min(SETTLE, deadline - now))[0]
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                break
            sys.stdout.buffer.write(chunk)
            sys.stdout.flush()
            text = chunk.decode("utf-8", "replace")
            seen_error = seen_error or any(e.search(plain(text)) for e in errors)
            pending, last_output, warned = (pending + text)[-4000:], time.monotonic(), False
            continue
        if table is None or not pending or pending.endswith("\n") or now - last_output < SETTLE:
            continue
        tail = plain("\n".join(pending.replace("\r", "").split("\n")[-8:]))
        matches = [(tail.count("\n", 0, m.end()), -i, i)  # the latest line, then the table's order
                   for i, (pattern, _, _) in enumerate(entries) for m in pattern.finditer(tail)]
        if matches:
            index = max(matches)[2]
            pattern, answer, limit = entries[index]
            answered[index] = answered.get(index, 0) + 1
            if answered[index] > limit:
                say(f"asked more than {limit} times ({pattern.pattern!r}): giving up")
                kill_tree(pid)
                return 125
            if answer.startswith("@"):
                reply, shown = secrets.get(answer[1:], ""), "(secret)"
            elif answer.startswith("$"):
                reply = shown = os.environ.get(answer[1:], "")
            else:
                reply = shown = answer
        elif YES_NO.search(tail):
            reply = shown = "N" if "(o/n)" in tail else "non"
            say(f"no answer known for {tail.splitlines()[-1]!r}: answering {reply}")
        else:
            if now - last_output > 30 and not warned:
                say(f"waiting at an unknown prompt {tail.splitlines()[-1]!r} (time-out in {deadline - now:.0f} s)")
                warned = True
            continue
        os.write(fd, reply.encode("utf-8") + b"\n")
        say(f"answered {shown!r}")
        pending = ""
    code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    return code if code else (3 if seen_error else 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
PY
run() { python3 "$work/run.py" "$@"; }  # run [--answer TABLE] TIMEOUT -- COMMAND...

onetime() {  # a one-time password (EOLE's policy: letters and digits, each kind present), never shown
  python3 -c 'import secrets, string
while True:
    p = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(20))
    if any(c.islower() for c in p) and any(c.isupper() for c in p) and any(c.isdigit() for c in p):
        print(p)
        break'
}

install -d -m 0755 /etc/eole
if [[ -n ${EOLE_CONFIG_EOL_BASE64:-} ]]; then
  { decoded EOLE_CONFIG_EOL_BASE64 >"$CONFIG.hapy" \
      && python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$CONFIG.hapy" \
      && mv -f "$CONFIG.hapy" "$CONFIG"; } || fail CONFIG "EOLE_CONFIG_EOL_BASE64 is not a JSON config.eol"
  status CONFIG OK "$CONFIG from the context"
fi

if [[ -n ${ZEPHIR_ADDRESS:-} ]]; then
  if enregistrement_zephir --check >/dev/null 2>&1; then
    status ENREGISTREMENT_ZEPHIR OK "already registered"
  else
    status ENREGISTREMENT_ZEPHIR RUNNING "server ${ZEPHIR_ID:-?} on $ZEPHIR_ADDRESS"
    HAPY_SECRET_ZEPHIR=$zephir_password run --answer zephir 900 -- enregistrement_zephir \
      || fail ENREGISTREMENT_ZEPHIR "exit $? (see $LOG)"
    status ENREGISTREMENT_ZEPHIR OK "server ${ZEPHIR_ID:-?}"
  fi
fi
unset zephir_password
[[ -s $CONFIG ]] || fail CONFIG "no $CONFIG: neither in the context nor from Zéphir"

if [[ ${EOLE_UPDATE:-NO} == YES ]]; then
  status MAJAUTO RUNNING ""
  http_proxy=${PROXY:-} https_proxy=${PROXY:-} run --answer instance 3600 -- Maj-Auto \
    || fail MAJAUTO "exit $? (see $LOG)"
  status MAJAUTO OK ""
fi

root_password=$(onetime) && eole_password=$(onetime) || fail INSTANCE "python3 cannot make a password"
if [[ ${EOLE_INSTANCE_UNATTENDED:-NO} == YES && -x $UNATTENDED ]]; then
  status INSTANCE RUNNING "instance-unattended"
  { printf 'root %s\neole %s\n' "$root_password" "$eole_password"
    [[ -z $addc_password ]] || printf 'addc %s\n' "$addc_password"; } >"$work/passwords"
  store=()
  [[ -n $addc_password ]] || store=(--store-passwords)  # its own AD password then comes back in the file
  run "$INSTANCE_TIMEOUT" -- "$UNATTENDED" "${store[@]}" --file-passwords "$work/passwords"
  code=$?
  if [[ -z $addc_password ]] && grep -q '^addc ' "$work/passwords"; then
    sed -n 's/^addc //p' "$work/passwords" >/root/.hapy-addc-password
    echo "[hapy] the AD administrator password instance-unattended made is in /root/.hapy-addc-password (root only)"
  fi
  rm -f -- "$work/passwords"
else
  [[ ${EOLE_INSTANCE_UNATTENDED:-NO} != YES ]] \
    || echo "[hapy] warning: $UNATTENDED is missing although the release has it: answering instance's prompts"
  status INSTANCE RUNNING "instance (prompts answered)"
  HAPY_SECRET_PASSWORD=$root_password HAPY_SECRET_ADDC=${addc_password:-$root_password} \
    run --answer instance "$INSTANCE_TIMEOUT" -- instance
  code=$?
fi
unset root_password eole_password addc_password
if (( code == 124 )); then
  fail INSTANCE "time-out after $INSTANCE_TIMEOUT s (see $LOG)"
elif (( code != 0 )); then
  fail INSTANCE "exit $code (see $LOG)"
fi
status INSTANCE OK ""

if [[ -n ${EOLE_ROOT_PASSWORD_HASH_BASE64:-} ]]; then
  hash=$(decoded EOLE_ROOT_PASSWORD_HASH_BASE64) || fail PASSWORDS "EOLE_ROOT_PASSWORD_HASH_BASE64 is not base64"
  for account in root eole; do
    if id "$account" >/dev/null 2>&1; then
      usermod -p "$hash" "$account" || fail PASSWORDS "usermod -p $account: exit $?"
    fi
  done
  status PASSWORDS OK "root and eole: the inventory's password"
else
  status PASSWORDS OK "no password in the inventory: root and eole keep one-time passwords (log in with the SSH key)"
fi

touch "$MARKER"
if [[ ${HAPY_HALT:-NO} == YES ]]; then
  status HALT OK "installed, powering off"
  poweroff
else
  status DONE OK "installed"
fi
