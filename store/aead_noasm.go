//go:build !gc || purego

package store

// asmBuild: golang.org/x/crypto builds without its assembly (see aead.go).
const asmBuild = false
