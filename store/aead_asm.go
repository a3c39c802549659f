//go:build gc && !purego

package store

// asmBuild: golang.org/x/crypto builds its assembly (see aead.go).
const asmBuild = true
