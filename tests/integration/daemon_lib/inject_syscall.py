#!/usr/bin/env python3
"""inject_syscall.py PID CALL - make a running hashwatchd worker try a
system call it must not make, the way an exploited decoder would, while it
is hashing a file: attach with ptrace, wait until its recvmsg() returns a
request (so it is busy with a file; "attached" on standard output says
when to send one), rewind it onto its syscall
instruction with the registers of CALL (openat of /etc/hostname,
socket(AF_INET), execve of /bin/true), and let it go.  The worker's
seccomp filter must then kill it with SIGSYS.  x86-64 only.

Exit status: 0 injected, 1 the worker did not take a request in time,
2 usage or ptrace failure."""
import ctypes
import os
import platform
import signal
import struct
import sys
import time

PTRACE_PEEKDATA, PTRACE_POKEDATA = 2, 5
PTRACE_GETREGS, PTRACE_SETREGS = 12, 13
PTRACE_ATTACH, PTRACE_DETACH, PTRACE_SYSCALL = 16, 17, 24
PTRACE_SETOPTIONS, PTRACE_O_TRACESYSGOOD = 0x4200, 1
WALL = 0x40000000
SYS_RECVMSG = 47
CALLS = {"openat": 257, "socket": 41, "execve": 59}
FIELDS = ("r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi orig_rax "
          "rip cs eflags rsp ss fs_base gs_base ds es fs gs").split()


class Regs(ctypes.Structure):
    _fields_ = [(f, ctypes.c_ulonglong) for f in FIELDS]


libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.restype = ctypes.c_long
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]


def ptrace(req, pid, addr=None, data=None):
    r = libc.ptrace(req, pid, addr, data)
    if r == -1 and ctypes.get_errno():
        raise OSError(ctypes.get_errno(), "ptrace %d: %s" % (req, os.strerror(ctypes.get_errno())))
    return r


def poke_bytes(pid, addr, data):
    data += b"\0" * (8 - len(data) % 8)
    for i in range(0, len(data), 8):
        word = struct.unpack("<q", data[i:i + 8])[0]
        ptrace(PTRACE_POKEDATA, pid, ctypes.c_void_p(addr + i), ctypes.c_void_p(word))


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in CALLS:
        print("usage: inject_syscall.py PID openat|socket|execve", file=sys.stderr)
        return 2
    if platform.machine() != "x86_64":
        print("x86-64 only", file=sys.stderr)
        return 2
    pid, call = int(sys.argv[1]), sys.argv[2]
    ptrace(PTRACE_ATTACH, pid)
    os.waitpid(pid, WALL)
    ptrace(PTRACE_SETOPTIONS, pid, None, ctypes.c_void_p(PTRACE_O_TRACESYSGOOD))
    # the caller sends the worker a file only after this line
    print("attached", flush=True)
    regs = Regs()
    deadline = time.time() + 20
    sig = 0
    while time.time() < deadline:
        ptrace(PTRACE_SYSCALL, pid, None, ctypes.c_void_p(sig))
        _, status = os.waitpid(pid, WALL)
        if not os.WIFSTOPPED(status):
            print("the worker ended while traced", file=sys.stderr)
            return 2
        stop = os.WSTOPSIG(status)
        sig = 0 if stop in (signal.SIGTRAP | 0x80, signal.SIGSTOP) else stop
        if stop != signal.SIGTRAP | 0x80:
            continue
        ptrace(PTRACE_GETREGS, pid, None, ctypes.byref(regs))
        rax = ctypes.c_longlong(regs.rax).value
        if regs.orig_rax != SYS_RECVMSG or rax <= 0:
            continue  # a syscall entry (rax -ENOSYS) or not a request
        # syscall-exit of a recvmsg that brought a request: inject
        scratch = (regs.rsp - 8192) & ~15
        if call == "openat":
            poke_bytes(pid, scratch, b"/etc/hostname\0")
            regs.rdi, regs.rsi, regs.rdx, regs.r10 = (1 << 64) - 100, scratch, 0, 0
        elif call == "socket":
            regs.rdi, regs.rsi, regs.rdx = 2, 1, 0
        else:
            poke_bytes(pid, scratch, b"/bin/true\0")
            regs.rdi, regs.rsi, regs.rdx = scratch, 0, 0
        regs.rax = CALLS[call]
        regs.orig_rax = (1 << 64) - 1
        regs.rip -= 2  # back onto the syscall instruction
        ptrace(PTRACE_SETREGS, pid, None, ctypes.byref(regs))
        ptrace(PTRACE_DETACH, pid, None, None)
        return 0
    ptrace(PTRACE_DETACH, pid, None, None)
    return 1


if __name__ == "__main__":
    sys.exit(main())
