package main

// Files and locked memory. A secret that carries files is an otsz1
// envelope larger than --max-secret-size allows a plain secret. Its
// request body, and its plaintext while it is stored and revealed, live
// in file slots of the store's locked arena: each holds one envelope of
// the largest bundle --max-file-size allows (with room for its header)
// and the fields sent beside it. Three slots are asked for (one upload
// and two reveals at once, or the like); two are the least that works.
// When the locked-memory limit leaves less, files shrink to what two
// slots of what is left hold, and the startup log says what to give.

import (
	"fmt"

	"otslite/handler"
	"otslite/store"
	"otslite/store/envelope"
)

const (
	// bundleSlack is the room an envelope of files gives the bundle's
	// header (envelope.MaxHeader), and a split share's header around it.
	bundleSlack     = 64 << 10
	fileSlotsWanted = 3
	minFileSlots    = 2
	lockedReserve   = 64 << 10 // what memguard locks beside the arena
)

// filePlan is how files are held.
type filePlan struct {
	Asked    int // --max-file-size
	MaxFile  int // files (with any text) one secret carries; 0: none
	Envelope int // the longest envelope taken, at least --max-secret-size
	Slots    int // file slots of SlotSize bytes; 0: none needed, or files are off
	SlotSize int
	shrunk   bool
}

// fileEnvelope is the length of the envelope of n bytes of files.
func fileEnvelope(n int) int { return envelope.SealedLen(n + bundleSlack) }

// planFiles plans for files of up to maxFile bytes beside secrets of up
// to maxSecret.
func planFiles(maxFile, maxSecret int) filePlan {
	p := filePlan{Asked: maxFile, Envelope: maxSecret}
	if maxFile <= 0 {
		return p
	}
	p.MaxFile = maxFile
	env := fileEnvelope(maxFile)
	if env <= maxSecret {
		return p // the arena's large slots hold such envelopes already
	}
	p.Envelope, p.Slots, p.SlotSize = env, fileSlotsWanted, handler.FileSlotSize(env)
	return p
}

// lockedWant is the locked memory the plan asks for.
func (p filePlan) lockedWant() int { return p.Slots * pageRound(p.SlotSize) }

func pageRound(n int) int { return (n + 4095) &^ 4095 }

// fit cuts the plan to the locked memory it may have.
func (p *filePlan) fit(lockable int, maxSecret int) {
	if p.Slots == 0 {
		return
	}
	if n := lockable / pageRound(p.SlotSize); n >= minFileSlots {
		p.Slots = min(n, fileSlotsWanted)
		return
	}
	p.shrunk = true
	slot := (lockable / minFileSlots) &^ 4095
	env := slot - handler.FileSlotSize(0)
	maxFile := envelope.MaxPlain(env) - bundleSlack
	if env <= maxSecret || maxFile <= 0 {
		p.MaxFile, p.Envelope, p.Slots, p.SlotSize = 0, maxSecret, 0, 0
		return
	}
	p.MaxFile, p.Envelope, p.Slots, p.SlotSize = maxFile, env, minFileSlots, handler.FileSlotSize(env)
}

// lockedNeeded is the locked-memory limit that holds files of the size
// asked, with the slots wanted, beside the arena's usual budget.
func (p filePlan) lockedNeeded() int64 {
	return int64(store.DefaultLockedBytes + lockedReserve + fileSlotsWanted*pageRound(handler.FileSlotSize(fileEnvelope(p.Asked))))
}

// line tells the operator about files, for the startup log.
func (p filePlan) line() string {
	switch {
	case p.Asked == 0:
		return "files: off (--max-file-size 0)"
	case p.shrunk && p.MaxFile == 0:
		return fmt.Sprintf("files: off: the locked memory left cannot hold an envelope of files; for files of up to %s, %s",
			formatSize(int64(p.Asked)), p.raise())
	case p.shrunk:
		return fmt.Sprintf("files: up to %s per secret, below --max-file-size (%s): %s",
			aboutSize(int64(p.MaxFile)), formatSize(int64(p.Asked)), p.raise())
	case p.Slots == 0:
		return fmt.Sprintf("files: up to %s per secret, sealed by the browser or the command line", aboutSize(int64(p.MaxFile)))
	}
	return fmt.Sprintf("files: up to %s per secret, sealed by the browser or the command line; %d envelopes of up to %s at once in locked memory (%s)",
		aboutSize(int64(p.MaxFile)), p.Slots, aboutSize(int64(p.Envelope)), aboutSize(int64(p.Slots*pageRound(p.SlotSize))))
}

// aboutSize writes n in MiB with one decimal (sizes here are large and
// rarely round), or exactly when it is a whole number of KiB or MiB.
func aboutSize(n int64) string {
	if n%(1<<10) == 0 || n < 1<<20 {
		return formatSize(n)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// raise says what locked-memory limit files of the size asked need.
func (p filePlan) raise() string {
	n := p.lockedNeeded()
	return fmt.Sprintf("raise the locked-memory limit to at least %s (ulimit -l %d, or docker run --ulimit memlock=%d)", aboutSize(n), (n+1023)>>10, n)
}
