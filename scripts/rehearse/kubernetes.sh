#!/usr/bin/env bash
# Rehearses deploy/README.md's "## Kubernetes" section on a real, single-node
# Kubernetes built on this machine from the Go module proxy, for issue #7
# ("every command in it was run"). Run by hand as root; not part of CI.
#
#   scripts/rehearse/kubernetes.sh          build what is missing, start the
#                                           cluster (or reuse it), rehearse
#   scripts/rehearse/kubernetes.sh --down   stop everything it started
#
# What runs: etcd v3.6, kube-apiserver, kube-controller-manager,
# kube-scheduler and kubelet v1.34 (1.35+ kubelets refuse cgroup v1), a
# containerd of its own (the distribution's binary, its own config, root,
# state and socket, beside and never touching the Docker engine's), the CNI
# bridge/host-local/loopback/portmap plugins. No kube-proxy and no DNS: the
# rehearsal only needs pods to start and their probes to pass, which the
# kubelet does directly against the pod IP.
#
# The rehearsal itself, from a scratch directory holding a dockopt.env in
# `dockopt-app register`'s format (fresh key, made-up app) and a link to deploy/:
#   A. the README's fenced sh block, extracted from the README at run time so
#      that a change to it is what gets rehearsed, each command run verbatim
#      and its exit status logged; then the pod must become Ready, answer
#      /readyz through `kubectl port-forward` as the chart's NOTES suggest,
#      stay Ready for 30s without restarts, and (sidecar) build a FROM
#      scratch Dockerfile with the sidecar's BuildKit.
#   B. the namespace deleted, the block's commands before `helm install`
#      (the "same namespace and Secret") and the README's `kubectl apply`
#      line, verbatim; then the same checks.
# The cluster is left running for inspection; component logs are in the
# directory printed at the start (/run/dockopt-kube-rehearsal/logs links to
# it).
#
# Cluster prerequisites a real cluster has and a bare one lacks, added here
# outside the README's commands: a default StorageClass with a local
# PersistentVolume for each phase's 1Gi claim, and the images the chart
# renders, imported into containerd because nothing can be pulled here. On a
# host whose root lacks CAP_SYS_RESOURCE (this one), containerd must clamp
# the sandboxes' negative OOM scores; see restrict_oom_score_adj below.
#
# Timings on the 2-core VM this was written on:
#   build, first time (scripts/rehearse/kube/build.sh):
#     etcd 1m40s, CNI plugins 15s,
#     kube-apiserver + kubectl 13m30s,
#     kube-controller-manager + kube-scheduler + kubelet 2m40s more
#   images: about 40s (dockopt's go build and a 785MB BuildKit image through
#     docker save | ctr import); 6m the first time, when dockopt compiled
#     beside the Kubernetes build
#   with binaries cached and no state: PKI to node Ready 50s (40s of it
#     images), each phase's pod Ready 3-7s after its last command (35-40s
#     with the checks); 2m25s in all, the same again against a running
#     cluster; --down 25s
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/scripts/rehearse/kube
KUBE_CACHE=${KUBE_CACHE:-$ROOT/.cache/kube}
BIN=$KUBE_CACHE/bin
# Persistent across runs (etcd data, PKI, containerd's image store) so a
# rerun neither rebuilds certificates nor reimports layers it already has.
STATE=${KUBE_REHEARSAL_STATE:-/var/lib/dockopt-kube-rehearsal}
RUN=/run/dockopt-kube-rehearsal
HELM=${HELM:-$ROOT/bin/helm}
READY_TIMEOUT=${READY_TIMEOUT:-300}

# Away from the defaults (2379, 6443, 10250, ...) and from what else runs
# here (8080, 3000, 5432, 1234).
ETCD_PORT=12379
ETCD_PEER_PORT=12380
APISERVER_PORT=16443
KCM_PORT=20257
SCHEDULER_PORT=20259
KUBELET_PORT=20250
KUBELET_HEALTHZ_PORT=20248
SERVICE_CIDR=10.96.0.0/16
POD_CIDR=10.244.0.0/24
BRIDGE=dockoptk8s0
# Whether this root may lower OOM scores (CAP_SYS_RESOURCE, bit 24).
if (( (16#$(awk '/^CapEff/{print $2}' /proc/self/status) >> 24) & 1 )); then
  RESTRICT_OOM=false
else
  RESTRICT_OOM=true
fi
NODE=$(hostname | tr '[:upper:]' '[:lower:]')
CONTAINERD_SOCK=$RUN/containerd.sock
PAUSE_REF=registry.k8s.io/pause:3.10.1
export KUBECONFIG=$STATE/pki/admin.kubeconfig
export PATH=$BIN:$(dirname "$HELM"):$PATH

log() { printf '\n[rehearse %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { log "FAILED: $*"; exit 1; }

# wait_for DESCRIPTION SECONDS COMMAND...
wait_for() {
  local what=$1 limit=$2 t0=$SECONDS
  shift 2
  until "$@" >/dev/null 2>&1; do
    [ $((SECONDS - t0)) -lt "$limit" ] || die "$what: not within ${limit}s"
    sleep 1
  done
  log "$what after $((SECONDS - t0))s"
}

# A pid file is trusted only while its process still runs the same binary:
# pids are reused.
running() {
  local pid exe
  pid=$(cat "$RUN/$1.pid" 2>/dev/null) || return 1
  exe=$(cat "$RUN/$1.exe" 2>/dev/null) || return 1
  [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$exe" ]
}

# start NAME BINARY ARGS...
start() {
  local name=$1
  shift
  if running "$name"; then
    log "$name already running (pid $(cat "$RUN/$name.pid"))"
    return
  fi
  setsid "$@" >"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN/$name.pid"
  readlink -f "$(command -v "$1")" >"$RUN/$name.exe"
  log "started $name (pid $!, log $LOGS/$name.log)"
}

stop() {
  local name=$1 pid i
  if ! running "$name"; then rm -f "$RUN/$name.pid" "$RUN/$name.exe"; return; fi
  pid=$(cat "$RUN/$name.pid")
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$RUN/$name.pid" "$RUN/$name.exe"
  log "stopped $name (pid $pid)"
}

# update FILE NAME: FILE gets stdin; NAME, if running, is stopped when that
# changed FILE, so that the start that follows reads it.
update() {
  local new
  new=$(cat)
  if [ -f "$1" ] && [ "$(cat "$1")" = "$new" ]; then return; fi
  printf '%s\n' "$new" >"$1"
  if running "$2"; then
    log "$1 changed: restarting $2"
    stop "$2"
  fi
}

ctr_() { ctr --address "$CONTAINERD_SOCK" -n k8s.io "$@"; }

down() {
  mkdir -p "$RUN"
  if running kube-apiserver && running kubelet; then
    # Through the kubelet, so the CNI plugins release the pods' addresses
    # and iptables rules.
    kubectl delete namespace dockopt --ignore-not-found --wait --timeout=90s || true
  fi
  stop kubelet
  if running containerd; then
    local id
    for id in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks kill -s KILL "$id" 2>/dev/null || true; done
    sleep 2
    for id in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks delete -f "$id" 2>/dev/null || true; done
    for id in $(ctr_ containers ls -q 2>/dev/null); do ctr_ containers delete "$id" 2>/dev/null || true; done
  fi
  stop containerd
  stop kube-scheduler
  stop kube-controller-manager
  stop kube-apiserver
  stop etcd
  # The kubelet's secret and emptyDir mounts, deepest first.
  awk -v s="$STATE/" '{ if (index($2, s) == 1) print $2 }' /proc/mounts | sort -r | while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" || true
  done
  ip link del "$BRIDGE" 2>/dev/null || true
  # The kubelet's (now empty) pod cgroups; rmdir refuses any still in use.
  find /sys/fs/cgroup/*/kubepods -depth -type d -exec rmdir {} + 2>/dev/null || true
  [ -L "$RUN/logs" ] && log "logs kept in $(readlink "$RUN/logs")"
  rm -f "$RUN/logs"
  log "down; state kept in $STATE (delete it for a cold start)"
}

preflight() {
  [ "$(id -u)" = 0 ] || die "run as root (containerd and the kubelet need it)"
  [ -d /sys/fs/cgroup/memory ] || log "warning: no cgroup v1 memory controller at /sys/fs/cgroup/memory"
  local p
  for p in $ETCD_PORT $ETCD_PEER_PORT $APISERVER_PORT $KCM_PORT $SCHEDULER_PORT $KUBELET_PORT $KUBELET_HEALTHZ_PORT; do
    # Taken is fine when it is by the cluster a previous run left running.
    if ss -Hltn "sport = :$p" | grep -q . && ! running etcd && ! running kube-apiserver; then
      die "port $p is taken by something this script did not start"
    fi
  done
  command -v containerd >/dev/null && command -v runc >/dev/null && command -v ctr >/dev/null ||
    die "needs containerd, runc and ctr (apt-get install containerd)"
  command -v docker >/dev/null || die "needs the docker CLI and engine to build the images"
}

build() {
  log "building (cached binaries are reused)"
  "$HERE/build.sh" etcd cni kube
  if [ ! -x "$HELM" ]; then
    log "no $HELM: building it with scripts/install-helm.sh"
    "$ROOT/scripts/install-helm.sh"
  fi
  "$HELM" version --short
  kubectl version --client
}

# A throwaway PKI: one CA for everything, and every control-plane client
# authenticates as system:masters except the kubelet, which gets the node
# identity the Node authorizer expects.
pki() {
  local d=$STATE/pki
  [ -f "$d/admin.kubeconfig" ] && return
  log "creating the PKI in $d"
  mkdir -p "$d"
  (
    cd "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=dockopt-rehearsal-ca \
      -keyout ca.key -out ca.crt 2>/dev/null
    # cert NAME SUBJECT EXTENSIONS
    cert() {
      openssl req -newkey rsa:2048 -nodes -subj "$2" -keyout "$1.key" -out "$1.csr" 2>/dev/null
      printf '%s\n' "$3" >"$1.ext"
      openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
        -extfile "$1.ext" -out "$1.crt" 2>/dev/null
    }
    cert apiserver /CN=kube-apiserver "subjectAltName=IP:127.0.0.1,IP:10.96.0.1,IP:$ADVERTISE,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
extendedKeyUsage=serverAuth"
    cert admin "/O=system:masters/CN=rehearsal-admin" "extendedKeyUsage=clientAuth"
    cert kubelet "/O=system:nodes/CN=system:node:$NODE" "extendedKeyUsage=clientAuth"
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    local who
    for who in admin kubelet; do
      kubectl config set-cluster rehearsal --server="https://127.0.0.1:$APISERVER_PORT" \
        --certificate-authority=ca.crt --embed-certs --kubeconfig="$who.kubeconfig" >/dev/null
      kubectl config set-credentials "$who" --client-certificate="$who.crt" --client-key="$who.key" \
        --embed-certs --kubeconfig="$who.kubeconfig" >/dev/null
      kubectl config set-context rehearsal --cluster=rehearsal --user="$who" --kubeconfig="$who.kubeconfig" >/dev/null
      kubectl config use-context rehearsal --kubeconfig="$who.kubeconfig" >/dev/null
    done
  )
}

control_plane() {
  start etcd "$BIN/etcd" --name rehearsal --data-dir "$STATE/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "rehearsal=http://127.0.0.1:$ETCD_PEER_PORT"
  wait_for "etcd healthy" 60 curl -fsS "http://127.0.0.1:$ETCD_PORT/health"

  local d=$STATE/pki
  # Listening on loopback only; the advertised address must still be a
  # routable one, since the "kubernetes" Service's endpoints may not be
  # loopback.
  start kube-apiserver "$BIN/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --bind-address=127.0.0.1 --secure-port="$APISERVER_PORT" --advertise-address="$ADVERTISE" \
    --tls-cert-file="$d/apiserver.crt" --tls-private-key-file="$d/apiserver.key" \
    --client-ca-file="$d/ca.crt" \
    --kubelet-client-certificate="$d/admin.crt" --kubelet-client-key="$d/admin.key" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$d/sa.pub" --service-account-signing-key-file="$d/sa.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --authorization-mode=Node,RBAC --allow-privileged=true \
    --enable-admission-plugins=NodeRestriction
  wait_for "kube-apiserver ready" 120 kubectl get --raw /readyz

  start kube-controller-manager "$BIN/kube-controller-manager" \
    --kubeconfig="$d/admin.kubeconfig" --authentication-kubeconfig="$d/admin.kubeconfig" \
    --authorization-kubeconfig="$d/admin.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="$KCM_PORT" --leader-elect=false \
    --service-account-private-key-file="$d/sa.key" --root-ca-file="$d/ca.crt" \
    --cluster-signing-cert-file="$d/ca.crt" --cluster-signing-key-file="$d/ca.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" --use-service-account-credentials=true
  start kube-scheduler "$BIN/kube-scheduler" \
    --kubeconfig="$d/admin.kubeconfig" --authentication-kubeconfig="$d/admin.kubeconfig" \
    --authorization-kubeconfig="$d/admin.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="$SCHEDULER_PORT" --leader-elect=false
}

containerd_up() {
  mkdir -p "$STATE/containerd" "$STATE/cni/net.d" "$STATE/cni/networks" "$STATE/kubelet"
  update "$STATE/containerd/config.toml" containerd <<EOF
# The rehearsal's own containerd: everything under $STATE and $RUN, so the
# Docker engine's containerd (/var/run/docker/containerd) is never touched.
version = 2
root = "$STATE/containerd/root"
state = "$RUN/containerd-state"
[grpc]
  address = "$CONTAINERD_SOCK"
[ttrpc]
  address = "$CONTAINERD_SOCK.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_REF"
  enable_selinux = false
  # The kubelet asks for oom_score_adj -998 for every pod sandbox, and
  # lowering a score needs CAP_SYS_RESOURCE, which root lacks on some VMs and
  # sandboxes (this one among them): runc then dies with "can't get final
  # child's PID from pipe". Clamping to containerd's own score is what
  # rootless setups do; it only changes who the kernel OOM-kills first.
  restrict_oom_score_adj = $RESTRICT_OOM
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        # cgroupfs: there is no systemd on this machine to delegate to.
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$BIN/cni"
    conf_dir = "$STATE/cni/net.d"
EOF
  cat >"$STATE/cni/net.d/10-rehearsal.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "rehearsal",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$STATE/cni/networks",
        "ranges": [[{"subnet": "$POD_CIDR"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
  start containerd containerd --config "$STATE/containerd/config.toml"
  wait_for "containerd answering" 60 ctr --address "$CONTAINERD_SOCK" version

  log "importing images"
  local t0=$SECONDS
  PAUSE_REF=$PAUSE_REF "$HERE/images.sh" "$CONTAINERD_SOCK"
  log "images imported in $((SECONDS - t0))s"
}

kubelet_up() {
  update "$STATE/kubelet/config.yaml" kubelet <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# This host still runs cgroup v1, which 1.34 allows unless told otherwise.
failCgroupV1: false
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
address: 0.0.0.0
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $KUBELET_HEALTHZ_PORT
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $STATE/pki/ca.crt}
authorization:
  mode: Webhook
failSwapOn: false
resolvConf: /etc/resolv.conf
# Nothing else may evict the rehearsal's pod on a busy build machine.
evictionHard:
  memory.available: 100Mi
  nodefs.available: 2%
  imagefs.available: 2%
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
EOF
  start kubelet "$BIN/kubelet" --config="$STATE/kubelet/config.yaml" \
    --kubeconfig="$STATE/pki/kubelet.kubeconfig" --root-dir="$STATE/kubelet" \
    --hostname-override="$NODE" --node-ip="$ADVERTISE" \
    --cert-dir="$STATE/kubelet/pki" --v=1
  wait_for "node $NODE registered" 120 kubectl get node "$NODE"
  wait_for "node $NODE Ready" 180 kubectl wait --for=condition=Ready "node/$NODE" --timeout=5s
}

# What a real cluster brings and a bare one does not: a default StorageClass.
# Local volumes rather than hostPath because only they apply the pod's
# fsGroup, which the chart relies on to make the volume writable for uid
# 65532 (as every CSI driver with fsGroupPolicy File does).
storage() {
  kubectl apply -f - >/dev/null <<EOF
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: rehearsal-local
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: WaitForFirstConsumer
reclaimPolicy: Retain
EOF
}

# fresh_pv NAME: a new, empty 1Gi volume for the next claim.
fresh_pv() {
  local name=$1 dir=$STATE/volumes/$1
  kubectl delete pv "$name" --ignore-not-found --wait=false >/dev/null
  kubectl patch pv "$name" --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null 2>&1 || true
  rm -rf "$dir"
  mkdir -p "$dir"
  kubectl apply -f - >/dev/null <<EOF
apiVersion: v1
kind: PersistentVolume
metadata:
  name: $name
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: rehearsal-local
  volumeMode: Filesystem
  local: {path: $dir}
  nodeAffinity:
    required:
      nodeSelectorTerms:
        - matchExpressions:
            - {key: kubernetes.io/hostname, operator: In, values: [$NODE]}
EOF
}

# A dockopt.env as `dockopt-app register` writes it (app/register/register.go,
# writeEnvFile): the PEM with its real newlines inside double quotes. The key
# is fresh and PKCS#1, as GitHub hands them out; the app does not exist, which
# the pod never notices since nothing here reaches GitHub.
write_env() {
  local key
  key=$(openssl genrsa -traditional 2048 2>/dev/null)
  case $key in "-----BEGIN RSA PRIVATE KEY-----"*) ;; *) die "openssl did not write a PKCS#1 key" ;; esac
  umask 077
  {
    echo "# GitHub App \"dockopt-rehearsal\" (https://github.com/apps/dockopt-rehearsal), created $(date -u +%Y-%m-%dT%H:%M:%SZ) by \`dockopt-app register\`."
    echo "# Secret: keep this file out of version control and out of images."
    echo "DOCKOPT_APP_ID=424242"
    printf 'DOCKOPT_PRIVATE_KEY="%s"\n' "$key"
    echo "DOCKOPT_WEBHOOK_SECRET=$(openssl rand -hex 20)"
  } >"$1/dockopt.env"
  umask 022
}

# run_commands FILE: each top-level command of FILE (a command spans lines
# until it parses and does not end in a backslash) in its own sh -e, echoed
# first and followed by its exit status, so the log shows every README
# command's outcome. Not sh -x, which would print the private key.
run_commands() {
  local chunk="" line n=0 rc
  while IFS= read -r line || [ -n "$line" ]; do
    chunk+="$line"$'\n'
    case $line in *\\) continue ;; esac
    sh -n -c "$chunk" 2>/dev/null || continue
    if [ -n "$(printf '%s' "$chunk" | tr -d '[:space:]')" ]; then
      n=$((n + 1))
      printf '\n$ %s' "$chunk"
      rc=0
      sh -e -c "$chunk" </dev/null 2>&1 || rc=$?
      echo "=> command $n exited $rc"
      [ "$rc" = 0 ] || return 1
    fi
    chunk=""
  done <"$1"
  [ -z "$(printf '%s' "$chunk" | tr -d '[:space:]')" ] || { echo "unparsable: $chunk"; return 1; }
}

readme_block() {
  awk '/^## Kubernetes/{k=1} k && /^```sh$/{b=1; next} b && /^```$/{exit} b' "$ROOT/deploy/README.md"
}

readme_apply() {
  awk '/^## /{k = ($0 == "## Kubernetes")} k' "$ROOT/deploy/README.md" |
    tr '\n' ' ' | grep -o '`kubectl apply [^`]*`' | tr -d '`'
}

# wait_ready WHAT: every dockopt pod Ready within READY_TIMEOUT, or a dump of
# why not.
wait_ready() {
  local t0=$SECONDS sel=app.kubernetes.io/name=dockopt
  until kubectl -n dockopt get pods -l "$sel" -o name 2>/dev/null | grep -q .; do
    [ $((SECONDS - t0)) -lt 60 ] || { explain; die "$1: no dockopt pod within 60s"; }
    sleep 1
  done
  if ! kubectl -n dockopt wait --for=condition=Ready pod -l "$sel" --timeout="${READY_TIMEOUT}s"; then
    explain
    die "$1: the dockopt pod is not Ready within ${READY_TIMEOUT}s"
  fi
  log "$1: Ready after $((SECONDS - t0))s"
}

explain() {
  log "why not: pods, events, container logs, kubelet log tail"
  kubectl -n dockopt get all,pvc,ingress -o wide || true
  kubectl -n dockopt describe pods || true
  kubectl -n dockopt get events --sort-by=.lastTimestamp || true
  local p c
  for p in $(kubectl -n dockopt get pods -o name 2>/dev/null); do
    for c in $(kubectl -n dockopt get "$p" -o jsonpath='{.spec.containers[*].name}'); do
      echo "--- logs $p -c $c"
      kubectl -n dockopt logs "$p" -c "$c" --tail=50 || true
      kubectl -n dockopt logs "$p" -c "$c" --tail=50 --previous 2>/dev/null || true
    done
  done
  tail -n 40 "$LOGS/kubelet.log" 2>/dev/null || true
}

show() {
  log "kubectl get all -n dockopt ($1)"
  kubectl get all -n dockopt
  kubectl -n dockopt get pvc,ingress,secret 2>/dev/null || true
  local p c
  p=$(kubectl -n dockopt get pods -l app.kubernetes.io/name=dockopt -o jsonpath='{.items[0].metadata.name}')
  for c in $(kubectl -n dockopt get pod "$p" -o jsonpath='{.spec.containers[*].name}'); do
    log "$p: the log of $c"
    kubectl -n dockopt logs "$p" -c "$c" --tail=15 || true
  done
}

# The chart's NOTES say how to check it is up: the same, through the API
# server and the kubelet, on local port 18080 rather than the NOTES' 8080,
# which is left to other services on the machines this runs on. Then the pod
# must stay Ready without restarts for a while, so that a liveness probe
# failing later is caught too.
check_up() {
  local pf rc=0
  kubectl -n dockopt rollout status deployment/dockopt --timeout=60s
  kubectl -n dockopt port-forward service/dockopt 18080:80 >"$LOGS/port-forward.log" 2>&1 &
  pf=$!
  wait_for "port-forward listening" 30 curl -fsS -o /dev/null http://127.0.0.1:18080/healthz
  log "$1: curl -fsS http://127.0.0.1:18080/readyz through kubectl port-forward"
  curl -fsS http://127.0.0.1:18080/readyz || rc=$?
  kill "$pf" 2>/dev/null || true
  wait "$pf" 2>/dev/null || true
  [ "$rc" = 0 ] || die "$1: /readyz through port-forward failed ($rc)"
  sleep "${STABLE_SECONDS:-30}"
  local restarts ready
  restarts=$(kubectl -n dockopt get pods -l app.kubernetes.io/name=dockopt \
    -o jsonpath='{range .items[*].status.containerStatuses[*]}{.restartCount}{"\n"}{end}' | sort -n | tail -1)
  ready=$(kubectl -n dockopt get pods -l app.kubernetes.io/name=dockopt \
    -o jsonpath='{range .items[*].status.conditions[?(@.type=="Ready")]}{.status}{"\n"}{end}' | sort -u)
  [ "$ready" = True ] && [ "$restarts" = 0 ] ||
    { explain; die "$1: after ${STABLE_SECONDS:-30}s Ready=$ready, restarts=$restarts"; }
  log "$1: still Ready after ${STABLE_SECONDS:-30}s, no restarts"
}

# Ready only says `buildctl debug workers` answers; a build proves the
# sidecar's securityContext is enough for rootless BuildKit to work. FROM
# scratch, since nothing can be pulled here.
buildkit_smoke() {
  kubectl -n dockopt get deploy/dockopt -o jsonpath='{.spec.template.spec.containers[*].name}' |
    grep -qw buildkitd || return 0
  log "$1: a FROM scratch build in the buildkitd sidecar"
  kubectl -n dockopt exec deploy/dockopt -c buildkitd -- sh -ec '
    d=$(mktemp -d)
    echo rehearsal >"$d/hello"
    printf "FROM scratch\nCOPY hello /hello\n" >"$d/Dockerfile"
    buildctl --addr tcp://127.0.0.1:1234 build --progress plain --frontend dockerfile.v0 \
      --local context="$d" --local dockerfile="$d" --output type=tar,dest=- | tar -t' ||
    die "$1: the BuildKit sidecar could not build"
}

# Namespace deletion waits for the pods to go, so the next phase starts clean.
clean_namespace() {
  if kubectl get namespace dockopt >/dev/null 2>&1; then
    log "deleting the dockopt namespace left from before"
    kubectl delete namespace dockopt --wait --timeout=180s
  fi
}

rehearse() {
  local work=$LOGS/workdir block apply prefix
  mkdir -p "$work"
  # The README's paths are relative to the repository root; a link keeps
  # dockopt.env out of the checkout.
  ln -sfn "$ROOT/deploy" "$work/deploy"
  write_env "$work"
  block=$(readme_block)
  apply=$(readme_apply)
  [ -n "$block" ] || die "no \`\`\`sh block under ## Kubernetes in deploy/README.md"
  [ -n "$apply" ] || die "no \`kubectl apply ...\` under ## Kubernetes in deploy/README.md"
  prefix=$(printf '%s\n' "$block" | awk '/^helm install/{exit} {print}')
  storage

  clean_namespace
  fresh_pv rehearsal-data-helm
  printf '%s\n' "$block" >"$work/readme-a.sh"
  log "A. the README's sh block, verbatim, in $work"
  (cd "$work" && run_commands readme-a.sh) || die "A: a README command failed"
  wait_ready "A (helm)"
  check_up "A (helm)"
  buildkit_smoke "A (helm)"
  show "A (helm)"

  clean_namespace
  fresh_pv rehearsal-data-plain
  printf '%s\n%s\n' "$prefix" "$apply" >"$work/readme-b.sh"
  log "B. the same namespace and Secret, then the README's apply line, verbatim, in $work"
  (cd "$work" && run_commands readme-b.sh) || die "B: a README command failed"
  wait_ready "B (kubectl apply)"
  check_up "B (kubectl apply)"
  show "B (kubectl apply)"
}

STEPS="build pki control_plane containerd_up kubelet_up rehearse"
case ${1:-} in
  --down) down; exit 0 ;;
  # For debugging one part: --step containerd_up, say (the cluster parts
  # reuse whatever is already running).
  --step) shift; STEPS=$* ;;
  "") ;;
  *) echo "usage: $0 [--down | --step STEP...]" >&2; exit 2 ;;
esac

T0=$SECONDS
preflight
mkdir -p "$STATE" "$RUN"
# Components already running keep writing where they were started, so their
# log directory is reused until --down.
if [ -d "$RUN/logs/" ] && running kube-apiserver; then
  LOGS=$(readlink -f "$RUN/logs")
else
  LOGS=$(mktemp -d /tmp/kube-rehearsal.XXXXXX)
  ln -sfn "$LOGS" "$RUN/logs"
fi
log "logs in $LOGS"
ADVERTISE=$(ip -4 route get 1.1.1.1 2>/dev/null | awk '{for (i = 1; i < NF; i++) if ($i == "src") print $(i+1)}')
[ -n "$ADVERTISE" ] || die "no routable IPv4 address to advertise"

for step in $STEPS; do "$step"; done
log "done in $((SECONDS - T0))s ($STEPS); the cluster keeps running: KUBECONFIG=$KUBECONFIG, stop it with $0 --down"
