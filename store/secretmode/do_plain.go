//go:build !goexperiment.runtimesecret

package secretmode

// Erases reports whether Do erases: not in a build without
// GOEXPERIMENT=runtimesecret.
const Erases = false

// Do calls f. Built without GOEXPERIMENT=runtimesecret, nothing is erased.
func Do(f func()) { f() }
