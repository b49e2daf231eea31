#!/bin/bash
# Managed by eole.hapy (role frontend): RAFT_LEADER_HOOK / RAFT_FOLLOWER_HOOK of an HA zone.
#   hapy-vip.sh leader|follower INTERFACE ADDRESS/PREFIX
# Raises the floating address on this server when it leads, lowers it otherwise, like OpenNebula's raft/vip.sh
# (same commands: sudo -n ip address, iputils arping for gratuitous ARP), then runs vip.sh for its services part
# (OneFlow, OneGate, hem, showback started on the leader, stopped on the followers).
#
# Why not vip.sh alone: oned runs each hook in a detached thread, so a server that leads for a moment during an
# election runs its leader and follower hooks in either order; when the follower run takes vip.sh's lock first,
# the leader run raises the address afterwards and a follower keeps it (seen on real oned 7.0.2). Here each run
# acts on the server's Raft state at the time it runs (one.zone.raftstatus on its own oned), the event only when
# oned does not answer (a follower hook at oned's start, before its API opens): the last run always leaves the
# address where the leader is.
set -u

ACTION=${1:-}
INTERFACE=${2:-}
IFADDR=${3:-}
ADDRESS=${IFADDR%%/*}
HOOKS_DIR=$(dirname "$(readlink -f "$0")")

if [[ ! $ACTION =~ ^(leader|follower)$ || -z $INTERFACE || $IFADDR != */* ]]; then
    echo "usage: $0 leader|follower INTERFACE ADDRESS/PREFIX" >&2
    exit 1
fi

if [ -n "${ONE_LOCATION:-}" ]; then LOCK_DIR=$ONE_LOCATION/var/lock; else LOCK_DIR=/var/lock/one; fi

# This server's Raft state from its own oned: leader, follower (any other state), or nothing when oned does not
# answer. oneadmin's credentials as the one* commands read them.
raft_state() {
    local auth_file=${ONE_AUTH:-${HOME:-/var/lib/one}/.one/one_auth} endpoint=${ONE_XMLRPC:-http://localhost:2633/RPC2} auth answer
    auth=$(head -n 1 "$auth_file" 2>/dev/null) || return 0
    auth=${auth//&/&amp;}; auth=${auth//</&lt;}; auth=${auth//>/&gt;}
    answer=$(curl -s -m 5 -H 'Content-Type: text/xml' --data-binary @- "$endpoint" <<EOF
<?xml version="1.0"?><methodCall><methodName>one.zone.raftstatus</methodName><params><param><value><string>${auth}</string></value></param></params></methodCall>
EOF
) || return 0
    case $answer in
        *'&lt;STATE&gt;3&lt;/STATE&gt;'*) echo leader ;;
        *'&lt;STATE&gt;'*) echo follower ;;
    esac
}

{
    flock -w 120 9 || { echo "hapy-vip.sh: lock $LOCK_DIR/hapy_vip busy, going on" >&2; }
    STATE=$(raft_state)
    WANTED=${STATE:-$ACTION}
    if [ "$WANTED" = leader ]; then
        if ! ip -o address show dev "$INTERFACE" | grep -q " ${ADDRESS}/"; then
            sudo -n ip address add "$IFADDR" dev "$INTERFACE" || exit 1
        fi
        echo "hapy-vip.sh: $ACTION hook, state ${STATE:-unknown}: $IFADDR on $INTERFACE"
        # gratuitous ARP (unsolicited, then replies), as vip.sh: the LAN forgets the previous leader's MAC
        sudo -n arping -q -c 2 -U -I "$INTERFACE" "$ADDRESS"
        sudo -n arping -q -c 1 -A -I "$INTERFACE" "$ADDRESS"
    else
        if ip -o address show dev "$INTERFACE" | grep -q " ${ADDRESS}/"; then
            sudo -n ip address del "$IFADDR" dev "$INTERFACE" || exit 1
        fi
        echo "hapy-vip.sh: $ACTION hook, state ${STATE:-unknown}: $IFADDR not on $INTERFACE"
    fi
} 9>"$LOCK_DIR/hapy_vip"

# OpenNebula's own script for the services that follow the leader (no address given: it only does that part).
exec "$HOOKS_DIR/vip.sh" "$WANTED"
