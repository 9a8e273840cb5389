"""A real, throwaway Redis Cluster: N masters with R replicas each, on free loopback ports
chosen at run time (other checkouts run the suite on this machine at the same time), in a
temp dir, without persistence, torn down afterwards. Used by tests/conftest.py (a session
cluster every parametrized store test shares, one per xdist worker), by the failover test (its
own cluster, since it kills nodes) and by bench/cluster_fanout.py."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass, field

import redis

from tests.support.procs import die_with_parent, free_ports, wait_for
from tests.support.redis import redis_server_args

NODE_TIMEOUT_MS = 1000  # how long a silent master stays up before its replica takes over
STARTUP_TIMEOUT = 30


@dataclass
class LocalRedisCluster:
    masters: int = 3
    replicas: int = 1
    ports: list[int] = field(default_factory=list)
    processes: dict[int, subprocess.Popen] = field(default_factory=dict)
    workdir: str = ""

    @property
    def nodes(self) -> list[str]:
        """``host:port`` of every node, as TIMELINE_REDIS_CLUSTER_NODES takes them."""
        return [f"127.0.0.1:{port}" for port in self.ports]

    def start(self) -> LocalRedisCluster:
        size = self.masters * (1 + self.replicas)
        ports = free_ports(2 * size)  # a client port and a cluster bus port per node
        self.ports, bus_ports = ports[:size], ports[size:]
        self.workdir = tempfile.mkdtemp(prefix="feedsite-cluster-")
        try:
            for port, bus_port in zip(self.ports, bus_ports, strict=True):
                self._spawn(port, bus_port)
            for port in self.ports:
                self._wait(lambda p=port: self.client(p).ping(), f"node {port} to answer")
            if self.masters == 1 and self.replicas == 0:
                # redis-cli wants 3 masters; one node simply takes every slot.
                self.client(self.ports[0]).execute_command("CLUSTER ADDSLOTSRANGE", 0, 16383)
            else:
                create = subprocess.run(
                    ["redis-cli", "--cluster", "create", *self.nodes,
                     "--cluster-replicas", str(self.replicas), "--cluster-yes"],
                    capture_output=True, text=True, timeout=STARTUP_TIMEOUT,
                )  # fmt: skip
                if create.returncode != 0:
                    raise RuntimeError(f"redis-cli --cluster create failed:\n{create.stdout}{create.stderr}")
            self.wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def _spawn(self, port: int, bus_port: int) -> None:
        self.processes[port] = subprocess.Popen(
            redis_server_args(
                port, self.workdir, "--cluster-port", str(bus_port), "--cluster-enabled", "yes",
                "--cluster-config-file", f"nodes-{port}.conf",
                "--cluster-node-timeout", str(NODE_TIMEOUT_MS),
                # A replica may always take over, however long it was cut off (tests pause them).
                "--cluster-replica-validity-factor", "0",
                "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0",
                # CLUSTER SLOTS lists a replica only once its offset moved: ping it often.
                "--repl-ping-replica-period", "1",
                "--logfile", os.path.join(self.workdir, f"{port}.log"),
            ),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=die_with_parent,
        )  # fmt: skip

    def client(self, port: int) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=port, socket_timeout=2, socket_connect_timeout=1)

    def alive_ports(self) -> list[int]:
        return [port for port, proc in self.processes.items() if proc.poll() is None]

    def wait_healthy(self, replicas: int | None = None) -> None:
        """Every live node sees the cluster OK, every slot range is served by a live master
        with at least ``replicas`` (default: as created) live replicas, all in sync."""
        want = self.replicas if replicas is None else replicas

        def healthy() -> bool:
            alive = self.alive_ports()
            for port in alive:
                client = self.client(port)
                if client.cluster("info").get("cluster_state") != "ok":
                    return False
                info = client.info("replication")
                if info["role"] == "slave" and info.get("master_link_status") != "up":
                    return False
                for _start, _end, master, *replicas in client.cluster("slots"):
                    if master[1] not in alive or len([r for r in replicas if r[1] in alive]) < want:
                        return False
            return True

        self._wait(healthy, "a healthy cluster on every node")

    def master_of(self, key: str) -> tuple[int, int | None]:
        """(master port, a live replica's port or None) serving ``key`` right now."""
        client = self.client(self.alive_ports()[0])
        slot = client.cluster("keyslot", key)
        for start, end, master, *replicas in client.cluster("slots"):
            if start <= slot <= end:
                live = [r[1] for r in replicas if r[1] in self.alive_ports()]
                return master[1], (live[0] if live else None)
        raise LookupError(f"no node serves slot {slot}")

    def kill(self, port: int) -> None:
        self.processes[port].send_signal(signal.SIGKILL)
        self.processes[port].wait()

    def pause(self, port: int) -> None:
        self.processes[port].send_signal(signal.SIGSTOP)

    def cut_off_replica(self, master: int, replica: int) -> None:
        """Freeze the replica and drop its link, so the master's next writes never reach it
        (a paused replica alone would still find them in its socket buffer)."""
        self.pause(replica)
        self.client(master).client_kill_filter(_type="replica")

    def resume(self, port: int) -> None:
        self.processes[port].send_signal(signal.SIGCONT)

    def stop(self) -> None:
        for proc in self.processes.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)
                proc.kill()
                proc.wait()
        self.processes.clear()
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    @staticmethod
    def _wait(check, what: str, timeout: float = STARTUP_TIMEOUT) -> None:
        wait_for(check, timeout=timeout, what=what, ignore=(redis.exceptions.RedisError,))
