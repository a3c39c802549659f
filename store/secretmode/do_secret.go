//go:build goexperiment.runtimesecret

package secretmode

import "runtime/secret"

// Erases reports whether Do erases: this build has runtime/secret.
const Erases = true

// Do calls f; the registers and stack f used are zeroed when it returns,
// and whatever it allocated on the heap when the garbage collector frees
// it.
func Do(f func()) { secret.Do(f) }
