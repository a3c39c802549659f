package store

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadKeyFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const hexKey = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF"
	want, _ := hex.DecodeString(hexKey)
	for _, content := range []string{hexKey, hexKey + "\n", "  " + hexKey + "\r\n\n"} {
		k, err := ReadKeyFile(write("ok", content))
		if err != nil {
			t.Fatalf("%q: %v", content, err)
		}
		if !bytes.Equal(k.Bytes(), want) {
			t.Errorf("%q: key %x", content, k.Bytes())
		}
		k.Destroy()
	}
	for name, content := range map[string]string{
		"short":  hexKey[:62],
		"long":   hexKey + "00",
		"nothex": "zz" + hexKey[2:],
		"zeros":  strings.Repeat("0", 64),
		"inner":  hexKey[:32] + " " + hexKey[32:],
		"huge":   strings.Repeat(hexKey, 10),
	} {
		_, err := ReadKeyFile(write(name, content))
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		// No error quotes what the file holds.
		if strings.Contains(err.Error(), hexKey[:8]) || strings.Contains(err.Error(), hexKey[40:48]) {
			t.Errorf("%s: the error quotes the key: %v", name, err)
		}
	}
	if _, err := ReadKeyFile(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing file was accepted")
	}
}

// Replicas with one key derive the same indexes: a store opened with a
// key file's key finds what another store with it made (TestRemote shows
// it through Redis); DeriveKey gives both the same subkeys.
func TestDeriveKeyIsShared(t *testing.T) {
	a, b := testKey(t, bytes.Repeat([]byte{7}, 32)), testKey(t, bytes.Repeat([]byte{7}, 32))
	other := testKey(t, bytes.Repeat([]byte{8}, 32))
	var x, y, z, w [32]byte
	DeriveKey(a, "label one", x[:])
	DeriveKey(b, "label one", y[:])
	DeriveKey(other, "label one", z[:])
	DeriveKey(a, "label two", w[:])
	if x != y || x == z || x == w || bytes.Contains(x[:], a.Bytes()[:8]) {
		t.Errorf("derived keys: same key %x %x, other key %x, other label %x", x, y, z, w)
	}
}
