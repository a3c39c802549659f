package main

import (
	"runtime"
	"runtime/debug"
	"strings"
)

// version is the release's name, set by the release build
// (-ldflags "-X main.version=v1.2.3"); otherwise the module's version, or
// "devel".
var version = ""

// versionLine is what --version prints: the version, the commit it was
// built from when known, and the Go release and platform.
//
//	otslite v1.2.3 (commit 3dd2f00c1a2b, 2026-12-07; go1.26.8 linux/amd64)
func versionLine() string {
	v := version
	var commit, when string
	modified := false
	if info, ok := debug.ReadBuildInfo(); ok {
		if v == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value[:min(len(s.Value), 12)]
			case "vcs.time":
				when, _, _ = strings.Cut(s.Value, "T")
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if v == "" {
		v = "devel"
	}
	var about []string
	if commit != "" {
		c := "commit " + commit
		if modified {
			c += " with local changes"
		}
		if when != "" {
			c += ", " + when
		}
		about = append(about, c)
	}
	about = append(about, runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH)
	return "otslite " + v + " (" + strings.Join(about, "; ") + ")"
}
