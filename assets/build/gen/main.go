// Command gen builds the web UI (package build) from ui/, pages/ and
// locales/ in the current directory and writes generated.go and ui.bin
// there. Run it as go generate ./assets, from anywhere in the module.
// With -check it writes nothing, and fails when the files there are not
// what the sources build to (CI runs it so).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"

	"otslite/assets/build"
)

func main() {
	check := flag.Bool("check", false, "only check that the generated files are up to date")
	flag.Parse()
	if err := run(*check); err != nil {
		fmt.Fprintln(os.Stderr, "assets:", err)
		os.Exit(1)
	}
}

func run(check bool) error {
	out, err := build.Build(os.DirFS("ui"), os.DirFS("pages"), os.DirFS("locales"))
	if err != nil {
		return err
	}
	src, blob, err := out.Generate()
	if err != nil {
		return err
	}
	files := []struct {
		name string
		data []byte
	}{{build.BlobFile, blob}, {build.GoFile, src}}
	for _, f := range files {
		if !check {
			if err := os.WriteFile(f.name, f.data, 0o644); err != nil {
				return err
			}
			continue
		}
		have, err := os.ReadFile(f.name)
		if err != nil {
			return err
		}
		if !bytes.Equal(have, f.data) {
			return fmt.Errorf("%s is not what ui/, pages/ and locales/ build to: run go generate ./assets", f.name)
		}
	}
	return nil
}
