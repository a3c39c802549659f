// Package secretmode runs code whose heap allocations must be erased when
// they are freed.
//
// crypto/tls seals each outgoing TLS 1.3 record by copying the plaintext
// into a write buffer it takes from a pool shared by the whole process.
// When that buffer has no room left for the record's tag, crypto/tls seals
// into a new buffer and drops the old one, plaintext and all, unwiped: a
// response (a revealed secret) or a request (a credential, a proof) stays
// in freed memory until something reuses it. Nothing outside crypto/tls
// can reach those buffers. runtime/secret can: what is allocated inside
// its Do is zeroed as soon as the garbage collector frees it.
//
// runtime/secret exists only when Go builds with GOEXPERIMENT=runtimesecret
// (the release build, the Dockerfile and CI do). Without it, Do calls f
// and Erases is false.
package secretmode

import "net"

// Conn runs its Read, Write and Close in Do, so that every buffer crypto/tls
// allocates for the connection is erased when freed. A handshake must run
// in Do too (Handshake does), or through Read or Write.
type Conn struct {
	net.Conn
}

// Read reads from the connection in Do.
func (c Conn) Read(p []byte) (n int, err error) {
	Do(func() { n, err = c.Conn.Read(p) })
	return n, err
}

// Write writes to the connection in Do.
func (c Conn) Write(p []byte) (n int, err error) {
	Do(func() { n, err = c.Conn.Write(p) })
	return n, err
}

// Close closes the connection in Do (a TLS connection writes an alert).
func (c Conn) Close() (err error) {
	Do(func() { err = c.Conn.Close() })
	return err
}
