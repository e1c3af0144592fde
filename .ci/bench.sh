#!/usr/bin/env bash
# make bench: c9cred's timing and memory goals, each as a RATIO against a
# floor measured in the same run (absolute times mean nothing across
# machines). The floor is internal/benchfloor, a Go binary that only prints
# credential_process JSON of c9cred's shape. Peers are real: moto_server as
# STS, the AWS CLI v2 (/usr/bin/aws), gnome-keyring on a private D-Bus
# session (.ci/with-keyring.sh). Timing is by hyperfine where present, else
# by a small python3 loop that writes the same JSON. Results: the table on
# stdout, plus bench/out/results.{txt,json} and one JSON file per measurement.
#
#   BENCH_NO_HYPERFINE=1  use the python3 loop even when hyperfine is there
#   BENCH_QUICK=1         fewer runs (a smoke test of this script)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/bench/out
ROLE=arn:aws:iam::123456789012:role/Bench

# ---------------------------------------------------------------- helpers

say() { printf '\n== %s\n' "$*"; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# measure ID RUNS WARMUP [--prepare CMD] [-i] -- CMD...
# Times each CMD (run without a shell; quote nothing that needs one) and
# writes hyperfine's JSON to $OUT/ID.json.
measure() {
  local id=$1 runs=$2 warm=$3
  shift 3
  local opts=()
  while [ "$1" != "--" ]; do
    case $1 in
      --prepare) opts+=(--prepare "$2"); shift 2 ;;
      -i) opts+=(-i); shift ;;
      *) die "measure: unknown option $1" ;;
    esac
  done
  shift
  if [ -n "${BENCH_QUICK:-}" ]; then
    runs=$(( (runs + 4) / 5 )); [ "$runs" -ge 3 ] || runs=3
    [ "$warm" -le 1 ] || warm=1
  fi
  if [ -n "$HYPERFINE" ]; then
    "$HYPERFINE" --style basic -N --warmup "$warm" --runs "$runs" "${opts[@]}" \
      --export-json "$OUT/$id.json" "$@"
  else
    python3 "$LIB" timeit --warmup "$warm" --runs "$runs" "${opts[@]}" \
      --export "$OUT/$id.json" -- "$@"
  fi
}

# measure_rounds ID ROUNDS RUNS WARMUP [options] -- CMD...
# measure, ROUNDS times, the command order reversed every other round, so a
# machine that slows down midway weighs on every command alike; the rounds'
# runs are merged into $OUT/ID.json (and $OUT/ID.rN.json are kept).
measure_rounds() {
  local id=$1 rounds=$2 runs=$3 warm=$4 r i
  shift 4
  local opts=() cmds
  while [ "$1" != "--" ]; do opts+=("$1"); shift; done
  shift
  for r in $(seq "$rounds"); do
    cmds=("$@")
    if [ $((r % 2)) = 0 ]; then
      cmds=(); for ((i = $#; i > 0; i--)); do cmds+=("${!i}"); done
    fi
    measure "$id.r$r" "$runs" "$warm" "${opts[@]}" -- "${cmds[@]}"
  done
  python3 "$LIB" merge "$OUT/$id.json" "$@" -- "$OUT/$id".r*.json
}

mean() { python3 "$LIB" mean "$OUT/$1.json" "$2" "${3:-mean}"; }   # mean seconds of command #$2 (or its CPU time: cpu)
row() { python3 "$LIB" row "$ROWS" "$@"; }             # one line of the final table

# Marker-carrying D-Bus daemons: processes started (directly or through an
# autolaunch) by anything this script ran, whatever else runs on the machine.
count_dbus() {
  local n=0 p
  for p in $(pgrep -x dbus-daemon || true) $(pgrep -x dbus-launch || true); do
    if grep -qzx "C9CRED_BENCH_MARK=$C9CRED_BENCH_MARK" "/proc/$p/environ" 2>/dev/null; then
      n=$((n + 1))
    fi
  done
  echo "$n"
}

# stop_group PID: end the process group PID leads (started with setsid).
stop_group() {
  local p=$1 i
  kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null || return 0
  for i in $(seq 50); do
    kill -0 "$p" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL -- "-$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
}

write_lib() {
  cat >"$LIB" <<'PY'
import json, os, re, resource, shlex, statistics, subprocess, sys, tempfile, time

def timeit(args):
    warm, runs, prepare, ignore, export = 0, 10, None, False, None
    while args[0] != "--":
        a = args.pop(0)
        if a == "--warmup": warm = int(args.pop(0))
        elif a == "--runs": runs = int(args.pop(0))
        elif a == "--prepare": prepare = args.pop(0)
        elif a == "-i": ignore = True
        elif a == "--export": export = args.pop(0)
    results = []
    for cmd in args[1:]:
        argv = shlex.split(cmd)
        def once():
            if prepare:
                subprocess.run(shlex.split(prepare), check=True, stdout=subprocess.DEVNULL)
            ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            rc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
            dt = time.perf_counter() - t
            ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            if rc and not ignore:
                sys.exit(f"bench: command failed (exit {rc}): {cmd}")
            return dt, rc, ru1.ru_utime - ru0.ru_utime, ru1.ru_stime - ru0.ru_stime
        for _ in range(warm): once()
        ts, rcs, us, ss = zip(*[once() for _ in range(runs)])
        r = dict(command=cmd, mean=statistics.mean(ts), stddev=statistics.stdev(ts) if runs > 1 else 0,
                 median=statistics.median(ts), min=min(ts), max=max(ts), times=list(ts), exit_codes=list(rcs),
                 user=statistics.mean(us), system=statistics.mean(ss))
        print(f"  {cmd}\n    mean {r['mean']*1e3:.2f} ms ± {r['stddev']*1e3:.2f}, median {r['median']*1e3:.2f} ms ({runs} runs)")
        results.append(r)
    with open(export, "w") as f:
        json.dump({"results": results}, f, indent=1)

def merge(args):
    """merge OUT CMD... -- ROUND.json...: one result per CMD over all rounds."""
    out = args.pop(0); i = args.index("--"); cmds, files = args[:i], args[i + 1:]
    rounds = [{r["command"]: r for r in json.load(open(f))["results"]} for f in files]
    results = []
    for c in cmds:
        ts = [t for rd in rounds for t in rd[c]["times"]]
        results.append(dict(command=c, mean=statistics.mean(ts), stddev=statistics.stdev(ts),
                            median=statistics.median(ts), min=min(ts), max=max(ts), times=ts,
                            round_means=[rd[c]["mean"] for rd in rounds],
                            cpu=statistics.mean(rd[c]["user"] + rd[c]["system"] for rd in rounds)))
    json.dump({"results": results}, open(out, "w"), indent=1)
    base = results[0]
    for r in results[1:]:
        per = ", ".join(f"{m / b:.2f}" for m, b in zip(r["round_means"], base["round_means"]))
        print(f"  merged {len(rounds)} rounds: mean ratio {r['mean'] / base['mean']:.3f} "
              f"(median ratio {r['median'] / base['median']:.3f}; CPU user+sys ratio {r['cpu'] / base['cpu']:.3f}; "
              f"per round {per}) for {r['command']}")

def mean(path, idx, field="mean"):
    r = json.load(open(path))["results"][int(idx)]
    if field == "cpu":  # merged rounds carry it; hyperfine gives user and system
        print(r["cpu"] if "cpu" in r else r["user"] + r["system"])
    else:
        print(r[field])

def rss(args):
    """rss RUNS [--prepare CMD] -- CMD: median peak RSS in KiB."""
    runs = int(args.pop(0)); prepare = None
    if args[0] == "--prepare":
        args.pop(0); prepare = args.pop(0)
    argv = args[1:]
    vals = []
    for _ in range(runs):
        if prepare:
            subprocess.run(shlex.split(prepare), check=True)
        if os.access("/usr/bin/time", os.X_OK):
            with tempfile.NamedTemporaryFile("r") as tf:
                p = subprocess.run(["/usr/bin/time", "-v", "-o", tf.name] + argv, stdout=subprocess.DEVNULL)
                if p.returncode: sys.exit(f"bench: failed (exit {p.returncode}): {argv}")
                m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", tf.read())
                vals.append(int(m.group(1)))
        else:  # the kernel's own figure, as /usr/bin/time reports it
            pid = os.fork()
            if pid == 0:
                fd = os.open(os.devnull, os.O_WRONLY); os.dup2(fd, 1)
                os.execvp(argv[0], argv)
            _, st, ru = os.wait4(pid, 0)
            if st: sys.exit(f"bench: failed (status {st}): {argv}")
            vals.append(ru.ru_maxrss)
    print(int(statistics.median(vals)))

def snap(d):
    """Names and mtimes of the cache entries: unchanged means no refresh."""
    out = []
    for root, _, files in os.walk(d):
        for n in sorted(files):
            if n.endswith(".lock"): continue
            p = os.path.join(root, n)
            out.append(f"{os.path.relpath(p, d)}:{os.stat(p).st_mtime_ns}")
    print(" ".join(sorted(out)))

def row(path, name, kind, value, floor, check, label):
    with open(path, "a") as f:
        f.write(json.dumps(dict(name=name, kind=kind, value=value, floor=floor, check=check, label=label)) + "\n")

def fmt(kind, v):
    if v in ("", "-"): return "-"
    v = float(v)
    if kind == "time": return f"{v:.3f} s" if v >= 1 else f"{v*1e3:.2f} ms"
    if kind == "kb": return f"{v/1024:.1f} MiB"
    if kind == "bytes": return f"{v/1e6:.1f} MB"
    return f"{v:g}"

def table(path, txt, js):
    rows, out = [], []
    for line in open(path):
        r = json.loads(line)
        v = float(r["value"]) if r["value"] not in ("", "-") else None
        f = float(r["floor"]) if r["floor"] not in ("", "-") else None
        ratio = v / f if v is not None and f else None
        op, _, lim = r["check"].partition(":")
        met = "-"
        if op == "ratio_le" and ratio is not None: met = "yes" if ratio <= float(lim) else "NO"
        elif op == "abs_le" and v is not None: met = "yes" if v <= float(lim) else "NO"
        elif op == "eq" and v is not None: met = "yes" if v == float(lim) else "NO"
        r.update(ratio=ratio, met=met)
        rows.append(r)
        out.append([r["name"], fmt(r["kind"], r["value"]), fmt(r["kind"], r["floor"]),
                    f"{ratio:.2f}x" if ratio is not None else "-", r["label"], met])
    head = ["name", "value", "floor", "ratio", "target", "met?"]
    w = [max(len(x[i]) for x in out + [head]) for i in range(len(head))]
    lines = [" | ".join(c.ljust(w[i]) for i, c in enumerate(x)).rstrip() for x in [head]]
    lines.append("-+-".join("-" * n for n in w))
    lines += [" | ".join(c.ljust(w[i]) for i, c in enumerate(x)).rstrip() for x in out]
    text = "\n".join(lines)
    print(text)
    open(txt, "w").write(text + "\n")
    json.dump(rows, open(js, "w"), indent=1)
    return sum(r["met"] == "NO" for r in rows)

cmd, rest = sys.argv[1], sys.argv[2:]
if cmd == "timeit": timeit(rest)
elif cmd == "mean": mean(*rest)
elif cmd == "merge": merge(rest)
elif cmd == "rss": rss(rest)
elif cmd == "snap": snap(*rest)
elif cmd == "row": row(*rest)
elif cmd == "table": sys.exit(0 if table(*rest) == 0 else 3)
PY
}

# ------------------------------------------- phase 2: inside with-keyring.sh

# Run by the main phase as `.ci/with-keyring.sh bash .ci/bench.sh __keychain`,
# with the main phase's exports: a private session bus with an unlocked
# gnome-keyring, so --cache keychain keeps the data key in a real Secret
# Service. Writes $OUT/kc_hit.json.
keychain_phase() {
  [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] || die "keychain phase: no session bus"
  export HOME=$BENCH_WORK/home-kc XDG_CACHE_HOME=$BENCH_WORK/home-kc/.cache XDG_CONFIG_HOME=$BENCH_WORK/home-kc/.config
  mkdir -p "$HOME"
  local c9=("$OUT/c9cred" --role "$ROLE" --source env --cache keychain)
  "${c9[@]}" >/dev/null || die "keychain phase: warming the cache failed"
  [ ! -e "$XDG_CACHE_HOME/c9cred/cache-data-key.secret" ] || die "keychain phase: the data key went to the file store"
  if command -v secret-tool >/dev/null; then
    # (into a variable: grep -q would close the pipe early, and pipefail)
    local items
    items=$(secret-tool search --all service c9cred 2>/dev/null | grep -c '^label = ' || true)
    [ "$items" -ge 1 ] || die "keychain phase: no c9cred item in the Secret Service"
  fi
  local before after
  before=$(python3 "$LIB" snap "$XDG_CACHE_HOME/c9cred")
  measure_rounds kc_hit 3 100 10 -- "$OUT/benchfloor" "${c9[*]}"
  after=$(python3 "$LIB" snap "$XDG_CACHE_HOME/c9cred")
  [ "$before" = "$after" ] || echo "bench: WARNING: the keychain cache entry changed during the cache-hit run (a refresh, not a hit)"
}

if [ "${1:-}" = __keychain ]; then
  keychain_phase
  exit 0
fi

# ------------------------------------------------------------ main phase

START=$SECONDS
mkdir -p "$OUT"
rm -f "$OUT"/*.json "$OUT"/results.txt
WORK=$(mktemp -d "${TMPDIR:-/tmp}/c9cred-bench.XXXXXX")
export BENCH_WORK=$WORK OUT ROLE
export LIB=$WORK/benchlib.py ROWS=$WORK/rows.jsonl
export C9CRED_BENCH_MARK="$$-$RANDOM"
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do stop_group "$p"; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
write_lib
: >"$ROWS"

HYPERFINE=$(command -v hyperfine || true)
[ -z "${BENCH_NO_HYPERFINE:-}" ] || HYPERFINE=
export HYPERFINE
command -v moto_server >/dev/null || die "moto_server is missing (run .ci/deps.sh)"
[ -x /usr/bin/aws ] || die "/usr/bin/aws (AWS CLI v2) is missing (run .ci/deps.sh)"

say "build (static, as make install builds it)"
CGO_ENABLED=0 go build -trimpath -o "$OUT/c9cred" .
CGO_ENABLED=0 go build -trimpath -o "$OUT/benchfloor" ./internal/benchfloor
C9=$OUT/c9cred FLOOR=$OUT/benchfloor
timer="python3 timing loop (no hyperfine)"
[ -z "$HYPERFINE" ] || timer=$("$HYPERFINE" --version)
echo "$(nproc) CPUs, $(uname -sr), $(go version | cut -d' ' -f3), $timer"
echo "c9cred $(stat -c %s "$C9") bytes, floor $(stat -c %s "$FLOOR") bytes"

# A private, predictable environment: nothing of the caller's AWS setup,
# no session bus (the file-store measurements and the leak check need none).
for v in $(compgen -e); do
  case $v in AWS_*|C9CRED_RESOLVING|DBUS_SESSION_BUS_ADDRESS) unset "$v" ;; esac
done
export HOME=$WORK/home XDG_CACHE_HOME=$WORK/home/.cache XDG_CONFIG_HOME=$WORK/home/.config
mkdir -p "$HOME/.aws"
export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_PAGER= AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE=$HOME/.aws/config AWS_SHARED_CREDENTIALS_FILE=$HOME/.aws/credentials
CACHE=$XDG_CACHE_HOME/c9cred

say "moto_server"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() {  # wait_port PORT SECONDS
  python3 - "$@" <<'PY' || die "nothing answers on 127.0.0.1:$1"
import socket, sys, time
end = time.time() + float(sys.argv[2])
while time.time() < end:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.5).close(); sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
PY
}
MOTO_PORT=$(free_port)
setsid moto_server -H 127.0.0.1 -p "$MOTO_PORT" >"$WORK/moto.log" 2>&1 &
PIDS+=($!)
wait_port "$MOTO_PORT" 60
MOTO=http://127.0.0.1:$MOTO_PORT
export AWS_ENDPOINT_URL_STS=$MOTO
echo "moto_server at $MOTO"
sts_calls() { grep -c '"POST / HTTP' "$WORK/moto.log" || true; }

HIT=("$C9" --role "$ROLE" --source env --cache file)
HIT_CMD="${HIT[*]}"

say "1. cache hit, file store (and the dbus-daemon leak check)"
"${HIT[@]}" >"$WORK/hit.json" || die "warming the cache failed"
python3 - "$WORK/hit.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["Version"] == 1 and d["AccessKeyId"].startswith("ASIA") and d["SessionToken"], d
print(f"c9cred prints {len(open(sys.argv[1]).read())} bytes, a {len(d['SessionToken'])}-character session token")
PY
dbus_before=$(count_dbus)
dbus_all_before=$(pgrep -cx dbus-daemon || true)
snap_before=$(python3 "$LIB" snap "$CACHE")
measure_rounds file_hit 3 100 10 -- "$FLOOR" "$HIT_CMD"
# --cache auto with no session bus is where a D-Bus library would autolaunch.
for _ in $(seq 20); do "$C9" --role "$ROLE" --source env --cache auto >/dev/null; done
dbus_after=$(count_dbus)
dbus_all_after=$(pgrep -cx dbus-daemon || true)
[ "$snap_before" = "$(python3 "$LIB" snap "$CACHE")" ] || echo "bench: WARNING: the cache entry changed during the cache-hit run (a refresh, not a hit)"
echo "dbus-daemon/dbus-launch started by this run: $dbus_before before, $dbus_after after (all dbus-daemons on the machine: $dbus_all_before -> $dbus_all_after)"
row "cache hit, file store" time "$(mean file_hit 1)" "$(mean file_hit 0)" ratio_le:1.5 "<= 1.5x floor"
row "dbus-daemons leaked (file bench + 20 --cache auto)" count "$((dbus_after - dbus_before))" - eq:0 "0"

say "2. cache hit, gnome-keyring Secret Service (inside .ci/with-keyring.sh)"
bash .ci/with-keyring.sh bash "$ROOT/.ci/bench.sh" __keychain
row "cache hit, gnome-keyring" time "$(mean kc_hit 1)" "$(mean kc_hit 0)" ratio_le:2 "<= 2x floor"

say "3. AWS CLI v2 end to end: credential_process = c9cred (warm) vs static env keys"
cat >"$AWS_CONFIG_FILE" <<EOF
[profile bench]
region = us-east-1
credential_process = $HIT_CMD
EOF
AWS=(/usr/bin/aws --endpoint-url "$MOTO" sts get-caller-identity)
arn=$("${AWS[@]}" --profile bench --output text --query Arn)
[[ $arn == *assumed-role/Bench/* ]] || die "aws --profile bench did not get the role's credentials: $arn"
arn=$("${AWS[@]}" --output text --query Arn)
[[ $arn != *assumed-role* ]] || die "aws with env keys used the role: $arn"
snap_before=$(python3 "$LIB" snap "$CACHE")
measure_rounds awscli 6 5 1 -- "${AWS[*]}" "${AWS[*]} --profile bench"
[ "$snap_before" = "$(python3 "$LIB" snap "$CACHE")" ] || echo "bench: WARNING: c9cred refreshed during the AWS CLI run"
row "AWS CLI v2 get-caller-identity via c9cred" time "$(mean awscli 1)" "$(mean awscli 0)" ratio_le:1.05 "<= 5 % overhead"
# CPU time (user+sys, c9cred's included) moves less than wall time when other
# work shares the machine: a cross-check of the row above, not a target.
row "  same, CPU time user+sys (cross-check)" time "$(mean awscli 1 cpu)" "$(mean awscli 0 cpu)" none "info"

say "5. peak RSS (median of 5, /usr/bin/time -v)"
rss_floor=$(python3 "$LIB" rss 5 -- "$FLOOR")
rss_hit=$(python3 "$LIB" rss 5 -- "${HIT[@]}")
rss_cold=$(python3 "$LIB" rss 5 --prepare "rm -rf $CACHE" -- "${HIT[@]}")
echo "floor $rss_floor KiB, cache hit $rss_hit KiB, cold $rss_cold KiB"

say "4. cold path: c9cred with an empty cache vs aws sts assume-role"
measure cold 10 2 --prepare "rm -rf $CACHE" -- "$HIT_CMD" \
  "/usr/bin/aws --endpoint-url $MOTO sts assume-role --role-arn $ROLE --role-session-name bench-cold"
row "cold: c9cred vs aws sts assume-role" time "$(mean cold 0)" "$(mean cold 1)" none "report"
row "peak RSS, cache hit" kb "$rss_hit" "$rss_floor" none "report"
row "peak RSS, cold" kb "$rss_cold" "$rss_floor" none "report"

say "6. 64 concurrent cold runs of one role vs 1 (and vs 64 concurrent floors)"
for n in 1 64 64floor; do
  cmd=$HIT_CMD
  [ "$n" != 64floor ] || cmd=$FLOOR
  cat >"$WORK/conc$n.sh" <<EOF
pids=()
for i in \$(seq ${n%floor}); do $cmd >/dev/null & pids+=(\$!); done
rc=0
for p in "\${pids[@]}"; do wait "\$p" || rc=1; done
exit \$rc
EOF
done
measure conc 5 1 --prepare "rm -rf $CACHE" -- "bash $WORK/conc1.sh" "bash $WORK/conc64.sh" "bash $WORK/conc64floor.sh"
rm -rf "$CACHE"
calls0=$(sts_calls)
bash "$WORK/conc64.sh"
sleep 0.3 # moto logs a request just after answering it
calls64=$(( $(sts_calls) - calls0 ))
echo "STS calls made by one batch of 64 cold runs: $calls64"
row "64 concurrent cold runs vs 1 (wall)" time "$(mean conc 1)" "$(mean conc 0)" none "report (<< 64x)"
row "64 concurrent cold runs vs 64 floors (wall)" time "$(mean conc 1)" "$(mean conc 2)" none "report"
row "STS calls per 64-way cold batch" count "$calls64" - eq:1 "1 (single flight)"

say "7. IMDS absent: an endpoint that accepts and never answers"
setsid python3 - "$WORK/imds.port" >/dev/null 2>&1 <<'PY' &
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(128)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
held = []
while True:
    held.append(s.accept()[0])   # accept, read nothing, answer nothing
PY
PIDS+=($!)
for _ in $(seq 100); do [ -s "$WORK/imds.port" ] && break; sleep 0.05; done
[ -s "$WORK/imds.port" ] || die "the never-answering listener did not start"
(
  unset AWS_EC2_METADATA_DISABLED
  export AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:$(cat "$WORK/imds.port")
  IMDS_CMD="$C9 --source imds --cache off"
  rc=0; $IMDS_CMD >/dev/null 2>"$WORK/imds.err" || rc=$?
  [ "$rc" = 1 ] || die "c9cred --source imds exited $rc (want 1): $(cat "$WORK/imds.err")"
  echo "c9cred says: $(head -1 "$WORK/imds.err")"
  measure imds 5 1 -i -- "$FLOOR" "$IMDS_CMD"
)
row "IMDS absent give-up (ABSOLUTE time)" time "$(mean imds 1)" "$(mean imds 0)" abs_le:1.25 "about 1 s (<= 1.25 s)"
row "binary size (info)" bytes "$(stat -c %s "$C9")" "$(stat -c %s "$FLOOR")" none "report"

say "results (value / floor from the same run; bench/out/results.txt)"
rc=0
python3 "$LIB" table "$ROWS" "$OUT/results.txt" "$OUT/results.json" || rc=$?
echo
echo "make bench: $((SECONDS - START)) s"
if [ "$rc" = 3 ]; then
  echo "bench: some targets are not met (see the met? column)"
  # Benchmarks report; they do not fail the build on a noisy machine.
  [ -z "${BENCH_STRICT:-}" ] || exit 1
elif [ "$rc" != 0 ]; then
  exit "$rc"
fi
