package store

// Proofs of the zero-knowledge envelope (otsz1, version 2). A client that
// encrypts in the browser or the CLI holds the link's 256-bit key K and
// sends, in the v1 passphrase field, a proof derived from it:
//
//	"zk1." + b64url(kp)                  no passphrase        (47 characters)
//	"zk1." + b64url(kp) + "." + b64url(pp)  with a passphrase (91 characters)
//
// kp derives from K alone, pp from K and the passphrase; b64url is
// unpadded base64url. A value of exactly this shape is a proof, never a
// human passphrase. The store keeps only keyed hashes of kp and pp: the
// first hashSize bytes of BLAKE2b-512(label || process key || kp or pp),
// made as link keys' derivations are (seal.go), in locked scratch memory.
// Checking one costs a hash, not argon2id: kp carries 256 bits, and pp is
// out of reach without K, so there is nothing to slow down.
//
// The rules that follow from it (see verifyProof): a caller without kp
// does not hold the link and is answered as for an unknown secret,
// counting toward no lockout (a lockout would only let a stranger shut
// out the recipient); a caller with kp who gets pp wrong is guessing the
// passphrase, and the lockouts apply as for human passphrases. Burning
// needs only the receipt key.

const (
	proofPrefix = "zk1."
	proofPart   = 43 // unpadded base64url of proofBytes
	proofBytes  = 32

	// ProofLen and ProofPassLen are the lengths of a proof's two forms.
	ProofLen     = len(proofPrefix) + proofPart
	ProofPassLen = ProofLen + 1 + proofPart
)

// ProofPrefix starts every proof; a human passphrase may not start with it.
var ProofPrefix = []byte(proofPrefix)

// Labels of the keyed hashes of kp and pp.
var (
	labelLinkProof = [labelSize]byte{'z', 'k', '1', 'l', 'i', 'n', 'k', 0}
	labelPassProof = [labelSize]byte{'z', 'k', '1', 'p', 'a', 's', 's', 0}
)

// A scratch slot holds a derivation, its input, then kp and pp decoded.
const proofAt = deriveSize + deriveInput

var _ [scratchSize - proofAt - 2*proofBytes]struct{}

// IsProof reports whether b has a proof's shape exactly:
// ^zk1\.[A-Za-z0-9_-]{43}(\.[A-Za-z0-9_-]{43})?$.
func IsProof(b []byte) bool {
	if len(b) != ProofLen && len(b) != ProofPassLen || string(b[:len(proofPrefix)]) != proofPrefix {
		return false
	}
	if !isB64URL(b[len(proofPrefix):ProofLen]) {
		return false
	}
	return len(b) == ProofLen || b[ProofLen] == '.' && isB64URL(b[ProofLen+1:])
}

func isB64URL(b []byte) bool {
	for _, c := range b {
		if b64Value(c) < 0 {
			return false
		}
	}
	return true
}

// b64Value is c's value in the base64url alphabet, or -1.
func b64Value(c byte) int {
	switch {
	case c >= 'A' && c <= 'Z':
		return int(c - 'A')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 26
	case c >= '0' && c <= '9':
		return int(c-'0') + 52
	case c == '-':
		return 62
	case c == '_':
		return 63
	}
	return -1
}

// decodePart decodes proofPart base64url characters into proofBytes
// bytes of dst, straight into it (the last character's two spare bits are
// ignored, as decoders do).
func decodePart(dst, src []byte) {
	var acc uint32
	bits, n := 0, 0
	for _, c := range src[:proofPart] {
		acc = acc<<6 | uint32(b64Value(c))
		bits += 6
		if bits >= 8 {
			bits -= 8
			dst[n] = byte(acc >> bits)
			n++
			if n == proofBytes {
				break
			}
		}
	}
}

// proofHashes writes the keyed hashes of a proof's kp, and of its pp when
// it has one, into link and pass; it reports whether it had a pp. wire
// must satisfy IsProof. The decoded parts live only in locked scratch
// memory, wiped on release.
func (s *Store) proofHashes(wire []byte, link, pass *[hashSize]byte) (bool, error) {
	scr, err := s.arena.scratchSlot()
	if err != nil {
		return false, err
	}
	defer scr.Release()
	d, work, raw := derivedIn(scr), scr.buf[deriveSize:proofAt], scr.buf[proofAt:proofAt+2*proofBytes]
	withPass := len(wire) == ProofPassLen
	decodePart(raw[:proofBytes], wire[len(proofPrefix):])
	derive(d, work, labelLinkProof, s.procKey(), raw[:proofBytes])
	copy(link[:], d[:hashSize])
	if withPass {
		decodePart(raw[proofBytes:], wire[ProofLen+1:])
		derive(d, work, labelPassProof, s.procKey(), raw[proofBytes:])
		copy(pass[:], d[:hashSize])
	}
	clear(d[:])
	burnStack()
	return withPass, nil
}
