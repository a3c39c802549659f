package store

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/awnumar/memguard"
	"golang.org/x/crypto/blake2b"
)

// Key files. Replicas that share one Redis store must derive the same
// indexes and keys from a link, so they share the process key: 32 random
// bytes written as 64 hex characters (what `openssl rand -hex 32` prints),
// with optional white space around them. The file is read straight into
// locked memory, decoded there, and the hex is wiped; no error quotes it.

// maxKeyFile is the most a key file may hold: the key, and room for white
// space and line ends.
const maxKeyFile = 256

// ReadKeyFile reads a process key from path into locked memory. Give it
// to the store as Config.Key; DeriveKey derives other keys from it.
func ReadKeyFile(path string) (*memguard.LockedBuffer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	raw := memguard.NewBuffer(maxKeyFile + 1)
	defer raw.Destroy()
	n, err := io.ReadFull(f, raw.Bytes())
	switch {
	case n > maxKeyFile:
		return nil, fmt.Errorf("%s: longer than a key (64 hex characters)", path)
	case err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF):
		return nil, fmt.Errorf("failed to read %s: %w", path, err)
	}
	hex := raw.Bytes()[:n]
	start, end := 0, len(hex)
	for start < end && isSpace(hex[start]) {
		start++
	}
	for end > start && isSpace(hex[end-1]) {
		end--
	}
	hex = hex[start:end]
	if len(hex) != 2*procKeySize {
		return nil, fmt.Errorf("%s: want 64 hex characters (openssl rand -hex 32), found %d characters", path, len(hex))
	}
	key := memguard.NewBuffer(procKeySize)
	kb := key.Bytes()
	for i := range procKeySize {
		hi, lo := hexValue(hex[2*i]), hexValue(hex[2*i+1])
		if hi < 0 || lo < 0 {
			key.Destroy()
			return nil, fmt.Errorf("%s: not hex (want 64 characters of 0-9a-f)", path)
		}
		kb[i] = byte(hi<<4 | lo)
	}
	allZero := true
	for _, b := range kb {
		allZero = allZero && b == 0
	}
	if allZero {
		key.Destroy()
		return nil, fmt.Errorf("%s: the key is all zeros; make one with openssl rand -hex 32", path)
	}
	burnStack()
	return key, nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func hexValue(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// DeriveKey writes len(out) (at most 64) bytes derived from a process key
// and label into out: BLAKE2b-512(label || key), as the store derives its
// own keys. Other parts of the program key their hashes with it (the
// create tokens, when replicas must agree on them).
func DeriveKey(key *memguard.LockedBuffer, label string, out []byte) {
	DeriveKeyFrom(key.Bytes(), label, out)
}

// DeriveKeyFrom is DeriveKey from the key's bytes.
func DeriveKeyFrom(key []byte, label string, out []byte) {
	if len(out) > blake2b.Size || len(key) != procKeySize || len(label) > 64 {
		panic("store: DeriveKey out of bounds")
	}
	in := memguard.NewBuffer(64 + procKeySize)
	defer in.Destroy()
	b := in.Bytes()
	n := copy(b, label)
	n += copy(b[n:], key)
	reserveBurn()
	sum := blake2b.Sum512(b[:n])
	copy(out, sum[:])
	clear(sum[:])
	burnStack()
}
