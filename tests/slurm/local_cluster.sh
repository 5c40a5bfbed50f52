#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, for the slurm executor's test (pytest -m slurm).
#   tests/slurm/local_cluster.sh install   # Debian packages: slurmctld, slurmd, slurm-client, munge (needs root)
#   tests/slurm/local_cluster.sh start     # munged + slurmctld + slurmd on localhost, all CPUs in one partition "local"
#   tests/slurm/local_cluster.sh stop
# The configuration lives in /etc/slurm/slurm.conf (written by `start` if absent); state in /var/spool/slurm*.
set -euo pipefail
cmd=${1:-start}
host=$(hostname -s)
cpus=$(nproc)
mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 2048 ))

case "$cmd" in
install)
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurmctld slurmd slurm-client munge ;;
start)
    command -v slurmctld >/dev/null || { echo "Slurm is not installed: run '$0 install' first" >&2; exit 1; }
    mkdir -p /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge /etc/slurm
    [ -f /etc/munge/munge.key ] || mungekey --create
    chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge 2>/dev/null || true
    pgrep -x munged >/dev/null || runuser -u munge -- /usr/sbin/munged
    if [ ! -f /etc/slurm/slurm.conf ]; then
        cat > /etc/slurm/slurm.conf <<CONF
ClusterName=vgs-local
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
MinJobAge=3600
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
    fi
    pgrep -x slurmctld >/dev/null || slurmctld
    pgrep -x slurmd >/dev/null || slurmd
    for _ in $(seq 30); do
        if sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then sinfo; exit 0; fi
        sleep 1
    done
    echo "Slurm did not come up; see /var/log/slurm/" >&2; exit 1 ;;
stop)
    pkill -x slurmd || true; pkill -x slurmctld || true ;;
*) echo "usage: $0 install|start|stop" >&2; exit 2 ;;
esac
