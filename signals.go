package main

// Signals. Every signal whose default action ends a process, and that the Go
// runtime can deliver to the program, ends the session the way SIGTERM
// does: stop accepting, let requests finish within the grace, wipe
// everything, print the summary line, exit 0. That includes the ones Go
// would otherwise answer with a goroutine dump and no wipe (SIGQUIT,
// SIGABRT, SIGSYS, SIGILL, SIGTRAP, SIGSTKFLT, and SIGBUS, SIGFPE, SIGSEGV
// sent with kill; faults of the program itself still crash it), and the
// ones Go would ignore although the system's default is to end the process
// (SIGUSR1, SIGUSR2, SIGALRM, SIGXCPU, SIGXFSZ, SIGVTALRM, SIGIO, SIGPWR,
// SIGPIPE and the real-time signals). A second one wipes and exits at once.
//
// Left out: SIGHUP, which re-reads --token-file (access.go); SIGPROF,
// which the Go runtime keeps for its profiler and ignores otherwise; and
// signals 32, 33 and 34, which the Go runtime keeps for C libraries and
// its own use and never delivers to the program. 32 and 34 would end the
// process without the wipe, so otslite ignores them (ignoreUndeliverable).

import (
	"os"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// endSignals are the signals that end a session.
func endSignals() []os.Signal {
	sigs := []os.Signal{
		unix.SIGINT, unix.SIGTERM, unix.SIGQUIT, unix.SIGILL, unix.SIGTRAP, unix.SIGABRT,
		unix.SIGBUS, unix.SIGFPE, unix.SIGSEGV, unix.SIGUSR1, unix.SIGUSR2, unix.SIGPIPE,
		unix.SIGALRM, unix.SIGSTKFLT, unix.SIGXCPU, unix.SIGXFSZ, unix.SIGVTALRM, unix.SIGIO,
		unix.SIGPWR, unix.SIGSYS,
	}
	for s := firstDeliverableRT; s <= lastRT; s++ {
		sigs = append(sigs, syscall.Signal(s))
	}
	return sigs
}

// Real-time signals: 32 to 64 on Linux; the Go runtime delivers 35 and up.
const (
	firstDeliverableRT = 35
	lastRT             = 64
)

// undeliverable are the signals whose default ends the process but that
// the Go runtime never hands to the program.
var undeliverable = []syscall.Signal{32, 34}

// ignoreUndeliverable sets the signals in undeliverable to be ignored,
// unless something already gave them a handler. Go leaves their
// disposition alone, so this holds for the life of the process.
func ignoreUndeliverable() error {
	for _, sig := range undeliverable {
		var old sigaction
		if err := rtSigaction(sig, nil, &old); err != nil {
			return err
		}
		if old.handler != sigDefault {
			continue
		}
		if err := rtSigaction(sig, &sigaction{handler: sigIgnore}, nil); err != nil {
			return err
		}
	}
	return nil
}

// sigaction is the kernel's struct sigaction on linux/amd64 and
// linux/arm64 (the layout the Go runtime uses there too).
type sigaction struct {
	handler  uintptr
	flags    uint64
	restorer uintptr
	mask     uint64
}

const (
	sigDefault = 0
	sigIgnore  = 1
)

func rtSigaction(sig syscall.Signal, act, old *sigaction) error {
	if runtime.GOOS != "linux" {
		return nil
	}
	_, _, errno := syscall.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig),
		uintptr(unsafe.Pointer(act)), uintptr(unsafe.Pointer(old)), unsafe.Sizeof(uint64(0)), 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// caughtSignal is why a session's context was cancelled by a signal.
type caughtSignal struct{ sig os.Signal }

func (c caughtSignal) Error() string { return signalName(c.sig) }

// signalName is "SIGQUIT", or "signal 40" for the real-time ones.
func signalName(sig os.Signal) string {
	if s, ok := sig.(syscall.Signal); ok {
		if name := unix.SignalName(s); name != "" {
			return name
		}
	}
	return sig.String()
}

// goroutines returns every goroutine's stack, as the runtime prints them
// on SIGQUIT (for --debuggable only: a stack may hold words of a secret).
func goroutines() []byte {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return buf[:n]
		}
		buf = make([]byte, 2*len(buf))
	}
}
