package envelope

import "crypto/sha256"

// HMAC-SHA-256, HKDF-SHA-256 (RFC 5869) and PBKDF2-HMAC-SHA-256 (RFC 8018)
// over memory the caller owns. The standard library's versions keep their
// keyed state (a passphrase's HMAC pads, a PRK) in heap objects nobody can
// wipe. Here every keyed byte lives in the Key's memory, and the hashing
// itself is crypto/sha256.Sum256, whose state stays on the stack (it does
// not allocate); burnStack zeroes that afterwards.

const (
	blockSize = sha256.BlockSize // 64
	hashSize  = sha256.Size      // 32
)

// mac is HMAC-SHA-256 keyed once, its pads and working space in caller
// memory: ib holds the inner pad followed by the message, ob the outer pad
// followed by the inner hash.
type mac struct {
	ib, ob []byte
}

// macWork is the memory a mac needs for messages of up to maxMsg bytes.
func macWork(maxMsg int) int { return 2*blockSize + maxMsg + hashSize }

// newMAC keys a mac in work (macWork(maxMsg) bytes). key may be longer
// than a block; it is then hashed first, as HMAC says.
func newMAC(work, key []byte, maxMsg int) mac {
	ib := work[:blockSize+maxMsg]
	ob := work[blockSize+maxMsg : macWork(maxMsg)]
	clear(work[:macWork(maxMsg)])
	if len(key) > blockSize {
		h := sha256.Sum256(key)
		copy(ib, h[:])
		clear(h[:])
	} else {
		copy(ib, key)
	}
	copy(ob, ib[:blockSize])
	for i := range blockSize {
		ib[i] ^= 0x36
		ob[i] ^= 0x5c
	}
	return mac{ib: ib, ob: ob}
}

// sum writes HMAC(key, parts...) to out (hashSize bytes).
func (m mac) sum(out []byte, parts ...[]byte) {
	n := blockSize
	for _, p := range parts {
		n += copy(m.ib[n:], p)
	}
	inner := sha256.Sum256(m.ib[:n])
	copy(m.ob[blockSize:], inner[:])
	clear(inner[:])
	outer := sha256.Sum256(m.ob)
	copy(out, outer[:])
	clear(outer[:])
}

// Limits of what the derivations here are given.
const (
	maxIKM  = 2 * KeySize                       // K, or K || stretched passphrase
	maxInfo = len(infoRequest) + 2*PublicKeyLen // the longest info used (a request's)
	maxMsg  = max(maxIKM, hashSize+maxInfo+1)

	hkdfMAC    = 2*blockSize + maxMsg + hashSize   // macWork(maxMsg)
	pbkdfMAC   = 2*blockSize + hashSize + hashSize // macWork(hashSize)
	hkdfWork   = hashSize + hkdfMAC + hashSize
	pbkdf2Work = pbkdfMAC + 2*hashSize
)

// hkdf writes HKDF-SHA-256(ikm, no salt, info) into out (at most
// 255*hashSize bytes). work (hkdfWork bytes) is wiped afterwards.
func hkdf(out, ikm []byte, info string, work []byte) {
	prk := work[:hashSize]
	area := work[hashSize : hashSize+hkdfMAC]
	t := work[hashSize+hkdfMAC : hkdfWork]
	// Extract, with the missing salt read as hashSize zero bytes.
	var zeros [hashSize]byte
	newMAC(area, zeros[:], maxMsg).sum(prk, ikm)
	// Expand: T(i) = HMAC(PRK, T(i-1) || info || i).
	m := newMAC(area, prk, maxMsg)
	prev := t[:0]
	var counter [1]byte
	for done := 0; done < len(out); {
		counter[0]++
		m.sum(t, prev, []byte(info), counter[:])
		prev = t
		done += copy(out[done:], t)
	}
	clear(work[:hkdfWork])
}

// pbkdf2 writes PBKDF2-HMAC-SHA-256(password, salt, iter) into out, one
// block's worth (hashSize bytes), which is all this format needs. salt is
// at most hashSize-4 bytes. work (pbkdf2Work bytes) is wiped afterwards.
func pbkdf2(out, password, salt []byte, iter int, work []byte) {
	m := newMAC(work, password, hashSize)
	u := work[pbkdfMAC : pbkdfMAC+hashSize]
	t := work[pbkdfMAC+hashSize : pbkdf2Work]
	m.sum(u, salt, []byte{0, 0, 0, 1})
	copy(t, u)
	for i := 1; i < iter; i++ {
		// U(i) = HMAC(P, U(i-1)), with the pads already in place.
		copy(m.ib[blockSize:], u)
		inner := sha256.Sum256(m.ib)
		copy(m.ob[blockSize:], inner[:])
		outer := sha256.Sum256(m.ob)
		copy(u, outer[:])
		for j := range t {
			t[j] ^= u[j]
		}
	}
	copy(out, t)
	clear(work[:pbkdf2Work])
}
