package main

// Reading secrets, passphrases and links into locked memory: from a file,
// from stdin, or typed at the terminal without echo. Nothing read here
// passes through the Go heap: reads go straight into vault memory.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool {
	if f == nil {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// terminal is where prompts go: the terminal a command was started from.
// While a prompt has echo off, restore puts it back (a signal calls it).
type terminal struct {
	in, out *os.File
	mu      sync.Mutex
	saved   *unix.Termios
}

// openTerminal returns stdin when it is a terminal (prompts then go to
// stderr), else the terminal tty opens (the process's controlling one),
// else an error.
func openTerminal(stdin, stderr *os.File, tty func() (*os.File, error)) (*terminal, error) {
	if isTerminal(stdin) {
		return &terminal{in: stdin, out: stderr}, nil
	}
	f, err := tty()
	if err != nil || !isTerminal(f) {
		if f != nil {
			f.Close()
		}
		return nil, errNoTerminal
	}
	return &terminal{in: f, out: f}, nil
}

// controllingTTY opens the process's controlling terminal.
func controllingTTY() (*os.File, error) { return os.OpenFile("/dev/tty", os.O_RDWR, 0) }

// prompting reports whether a prompt has echo off now.
func (t *terminal) prompting() bool {
	if t == nil {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.saved != nil
}

var errNoTerminal = errors.New("no terminal to ask on")

// restore turns echo back on if a prompt turned it off.
func (t *terminal) restore() {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.saved != nil {
		unix.IoctlSetTermios(int(t.in.Fd()), unix.TCSETS, t.saved) //nolint:errcheck // best effort
		t.saved = nil
		fmt.Fprintln(t.out)
	}
}

// ask prints prompt and reads one line, without echo, into dst (locked
// memory). It returns the line without its end; a line longer than dst is
// an error (its bytes are wiped).
func (t *terminal) ask(prompt string, dst []byte) ([]byte, error) {
	fd := int(t.in.Fd())
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, err
	}
	quiet := *old
	quiet.Lflag &^= unix.ECHO
	quiet.Lflag |= unix.ICANON | unix.ISIG
	t.mu.Lock()
	t.saved = old
	err = unix.IoctlSetTermios(fd, unix.TCSETS, &quiet)
	t.mu.Unlock()
	if err != nil {
		t.restore()
		return nil, err
	}
	fmt.Fprint(t.out, prompt)
	n, err := readLine(t.in, dst)
	t.restore()
	if err != nil {
		clear(dst)
		return nil, err
	}
	return dst[:n], nil
}

var errTooLong = errors.New("too long")

// readLine reads up to and without a newline (and a carriage return
// before it) into dst, straight from r.
func readLine(r io.Reader, dst []byte) (int, error) {
	n := 0
	for {
		if n == len(dst) {
			return 0, errTooLong
		}
		m, err := r.Read(dst[n : n+1])
		if m == 1 {
			if dst[n] == '\n' {
				dst[n] = 0
				if n > 0 && dst[n-1] == '\r' {
					n--
					dst[n] = 0
				}
				return n, nil
			}
			n++
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return 0, err
		}
	}
}

// maxPassphrase is the longest passphrase read, in bytes.
const maxPassphrase = 4096

// readPassphrase asks for a passphrase; with confirm, twice. It returns
// the passphrase as typed (envelope.Normalize makes its NFC form).
func (t *terminal) readPassphrase(v *vault, prompt string, confirm bool) ([]byte, error) {
	p, err := v.alloc(maxPassphrase)
	if err != nil {
		return nil, err
	}
	pass, err := t.ask(prompt, p)
	if err == nil && len(pass) == 0 {
		err = errors.New("the passphrase is empty")
	}
	if err == nil && confirm {
		var again []byte
		if again, err = v.alloc(maxPassphrase); err == nil {
			var second []byte
			second, err = t.ask("Again, to confirm: ", again)
			if err == nil && !bytes.Equal(pass, second) {
				err = errors.New("the passphrases differ")
			}
			v.free(again)
		}
	}
	if err != nil {
		v.free(p)
		if errors.Is(err, errTooLong) {
			err = fmt.Errorf("the passphrase is longer than %d bytes", maxPassphrase)
		}
		return nil, err
	}
	return pass, nil
}

// readAll reads r to its end into locked memory, at most limit bytes; sizeHint
// (a file's size, or 0) sizes the first buffer. More than limit bytes is
// errTooLarge.
func readAll(v *vault, r io.Reader, sizeHint int64, limit int) ([]byte, error) {
	size := 64 << 10
	if sizeHint > 0 {
		size = int(min(sizeHint+1, int64(limit)+1))
	}
	buf, err := v.alloc(size)
	if err != nil {
		return nil, err
	}
	n := 0
	for {
		if n == len(buf) {
			if n > limit {
				v.free(buf)
				return nil, errTooLarge
			}
			if buf, err = v.grow(buf, min(2*len(buf), limit+1)); err != nil {
				return nil, err
			}
		}
		m, err := r.Read(buf[n:])
		n += m
		if err == io.EOF {
			break
		}
		if err != nil {
			v.free(buf)
			return nil, err
		}
	}
	if n > limit {
		v.free(buf)
		return nil, errTooLarge
	}
	return buf[:n], nil
}

var errTooLarge = errors.New("too large")

// readSecret reads the secret to share: from the file named, else from
// stdin, asking on t (one line, not shown) when stdin is a terminal.
// A text of one line loses its final newline (echo's); anything longer is
// kept exactly. An empty secret is an error.
func readSecret(v *vault, name string, stdin *os.File, t *terminal, limit int) ([]byte, error) {
	var secret []byte
	var err error
	switch {
	case name != "" && name != "-":
		f, ferr := os.Open(name)
		if ferr != nil {
			return nil, ferr
		}
		defer f.Close()
		var hint int64
		if st, serr := f.Stat(); serr == nil && st.Mode().IsRegular() {
			hint = st.Size()
		}
		secret, err = readAll(v, f, hint, limit)
	case t != nil && t.in == stdin:
		var buf []byte
		if buf, err = v.alloc(min(limit, 64<<10) + 1); err == nil {
			secret, err = t.ask("Secret (one line, not shown): ", buf)
			if errors.Is(err, errTooLong) {
				err = errTooLarge
			}
		}
	default:
		secret, err = readAll(v, stdin, 0, limit)
	}
	if err != nil {
		return nil, err
	}
	if i := bytes.IndexByte(secret, '\n'); i >= 0 && i == len(secret)-1 {
		secret[i] = 0
		secret = secret[:i]
		if i > 0 && secret[i-1] == '\r' {
			secret[i-1] = 0
			secret = secret[:i-1]
		}
	}
	if len(secret) == 0 {
		v.free(secret)
		return nil, errors.New("the secret is empty")
	}
	return secret, nil
}
