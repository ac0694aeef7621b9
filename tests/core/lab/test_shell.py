"""The lab hosts' shell: lists, quoting, $?, sudo, patterns, batches — compared with a real
bash where both can run the line, and served over the lab's real SSH server."""

from __future__ import annotations

import shutil
import socket
import subprocess

import paramiko
import pytest

from calipso_core.hostcli.batch import batch, split_batch
from calipso_core.hostcli.brctl import Bridge, parse_brctl_show, render_brctl_show
from calipso_core.hostcli.ip_netns import Namespace, parse_ip_netns_list, render_ip_netns_list
from calipso_core.lab.shell import Shell, ShellSyntaxError, tokenize
from calipso_core.lab.ssh import CommandOutput, LabSshServer

NAMESPACES = (Namespace("qdhcp-1"), Namespace("qrouter-2"))
BRIDGES = (Bridge("qbr1", "8000.fa163e000001", False, ("qvb1", "tap1")),)


def lab_shell() -> Shell:
    return Shell({
        "ip netns list": lambda: render_ip_netns_list(NAMESPACES),
        "brctl show": lambda: render_brctl_show(BRIDGES),
        "ip netns exec {ns} ip address show": lambda ns: f"addresses of {ns}\n",
        "ip netns exec {ns} {command*}": lambda ns, command: CommandOutput(1, "", f"{ns}: {command}: no\n"),
        "virsh dumpxml {id}": lambda id: f"<domain id='{id}'/>\n",
        "arch": lambda: "x86_64\n",
        "ls -l /sys/class/net | grep ^l": lambda: "lrwxrwxrwx 1 root root 0 Jul  5 17:17 eth0 -> x\n",
    })


def test_registered_commands_with_placeholders_and_sudo():
    shell = lab_shell()
    assert shell("ip netns list") == CommandOutput(0, "qdhcp-1\nqrouter-2\n", "")
    assert shell.run("sudo ip netns exec qdhcp-1 ip address show").stdout == "addresses of qdhcp-1\n"
    assert shell("ip netns exec qdhcp-1 ip link show") == CommandOutput(1, "", "qdhcp-1: ip link show: no\n")
    assert shell("virsh dumpxml 38").stdout == "<domain id='38'/>\n"
    assert shell("ls -l /sys/class/net | grep ^l").stdout.startswith("lrwxrwxrwx")


def test_unknown_commands_and_arguments_exit_127():
    shell = lab_shell()
    assert shell("ovs-vsctl show") == CommandOutput(127, "", "bash: ovs-vsctl: command not found\n")
    assert shell("virsh dumpxml").exit_status == 127
    assert shell("ip netns list extra").exit_status == 127


def test_prepare_answers_each_command_without_parameters_once_and_without_delay():
    asked: list[str] = []
    delays: list[float] = []

    def answer(name: str):
        return lambda **params: asked.append(name) or f"{name}\n"

    shell = Shell({"ip netns list": answer("list"), "virsh dumpxml {id}": answer("dumpxml"),
                   "ip netns exec {ns} {command*}": answer("exec"), "arch": answer("arch")},
                  command_delay=lambda: delays.append(0.0) or 0.0)
    shell.prepare()
    assert sorted(asked) == ["arch", "list"] and delays == []
    assert shell("virsh dumpxml 3").stdout == "dumpxml\n" and delays == [0.0]


BUILTIN_LINES = [
    "echo a; echo b",
    "false; echo $?",
    "false && echo no; echo status $?",
    "false || echo yes && echo also",
    "true && false || echo recovered $?",
    "echo 'single $? \"quoted\"' \"double $?\" mixed'ab'\"cd\"",
    "echo -n no newline; echo",
    "echo \"escaped \\\" \\$? quote\" back\\ slash",
    "echo sub `echo inner` \"$(echo in quotes)\"",
    "sudo echo with sudo;",
    "false; echo '@@calipso-batch@@ 1' $?; true; echo '@@calipso-batch@@ 2' $?",
]


@pytest.mark.parametrize("line", BUILTIN_LINES)
def test_builtin_lines_print_what_bash_prints(line):
    if shutil.which("bash") is None:
        pytest.skip("bash is needed to compare")
    # the lab host's sudo only drops the word; bash runs the line without it
    real = subprocess.run(["bash", "-c", line.replace("sudo ", "")], capture_output=True, text=True, timeout=30)
    output = Shell({})(line)
    assert (output.exit_status, output.stdout) == (real.returncode, real.stdout)


def test_batch_lines_split_into_each_commands_output():
    commands = ["ip netns list", "nosuch", "brctl show", "echo ARCHITECURE=`arch`", "ip netns exec q ip r"]
    output = lab_shell()(batch(commands))
    results = split_batch(output.stdout, commands)
    assert [r.exit_status for r in results] == [0, 127, 0, 0, 1]
    assert parse_ip_netns_list(results[0].stdout) == NAMESPACES
    assert parse_brctl_show(results[2].stdout) == BRIDGES
    assert results[3].stdout == "ARCHITECURE=x86_64\n"
    assert output.stderr == "bash: nosuch: command not found\nq: ip r: no\n"
    assert output.exit_status == 0  # the last command of a batch is its last echo


@pytest.mark.parametrize("line", ["echo 'open", 'echo "open', "echo `open", "a &&", "&& a", "a || ; b"])
def test_syntax_errors_exit_2(line):
    with pytest.raises(ShellSyntaxError):
        tokenize(line)
    output = Shell({})(line)
    assert output.exit_status == 2 and output.stderr.startswith("bash: syntax error")


def test_shell_answers_over_the_lab_ssh_server(tmp_path):
    commands = ["sudo ip netns list", "sudo brctl show", "ovs-vsctl show"]
    with LabSshServer({"node-1": lab_shell()}, "root", "lab-pass", key_dir=tmp_path / "keys") as lab:
        port = lab.ports.hosts["node-1"]
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        client.get_host_keys().add(f"[127.0.0.1]:{port}", "ssh-ed25519", lab.host_key("node-1"))
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        client.connect("127.0.0.1", port, username="root", password="lab-pass", sock=sock, timeout=10,
                       look_for_keys=False, allow_agent=False)
        try:
            _, stdout, stderr = client.exec_command(batch(commands), timeout=10)
            out, err = stdout.read().decode(), stderr.read().decode()
            status = stdout.channel.recv_exit_status()
        finally:
            client.close()
    results = split_batch(out, commands)
    assert status == 0 and err == "bash: ovs-vsctl: command not found\n"
    assert parse_ip_netns_list(results[0].stdout) == NAMESPACES
    assert parse_brctl_show(results[1].stdout) == BRIDGES and results[2].exit_status == 127
