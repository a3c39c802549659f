package envelope

// Asking for a secret: the requester holds a P-256 key pair; its public
// key rides in the request link's fragment, its private key in the
// requester's own link. The answerer draws an ephemeral pair e, and both
// sides derive the key K of the answer's envelope:
//
//	Z = ECDH(e, requester public) = ECDH(requester private, e public)
//	K = HKDF-SHA-256(Z, no salt, "otslite zk1 request" || requester public || e public, 32)
//
// Public keys are raw uncompressed points (65 bytes, 0x04 || X || Y);
// the private key is its 32-byte scalar. The answer is an envelope under
// K without a passphrase, sent with its proof as any other.
//
// Memory rules: the private scalars and K live in caller memory. crypto/ecdh
// copies a scalar it is given into heap objects of its own, and returns Z
// on the heap; each is zeroed once used (wipeDeep, clear), and so is the
// stack the curve arithmetic ran on.

import (
	"crypto/ecdh"
	"errors"
	"io"
	"reflect"
	"unsafe"
)

// Sizes of request keys.
const (
	PublicKeyLen  = 65
	PrivateKeyLen = 32

	infoRequest = "otslite zk1 request"
)

// ErrRequestKey means a request's key (public or private) is not one.
var ErrRequestKey = errors.New("envelope: the request's key is damaged")

// NewRequestKeys draws a P-256 key pair: the private scalar into priv
// (PrivateKeyLen bytes of caller memory), the public key into pub
// (PublicKeyLen bytes).
func NewRequestKeys(priv, pub []byte, rand io.Reader) error {
	if len(priv) != PrivateKeyLen || len(pub) != PublicKeyLen {
		return ErrShortBuf
	}
	defer burnStack()
	for range 64 {
		if _, err := io.ReadFull(rand, priv); err != nil {
			return err
		}
		k, err := ecdh.P256().NewPrivateKey(priv)
		if err != nil {
			continue // zero, or not below the group order: draw again
		}
		copy(pub, k.PublicKey().Bytes())
		wipeDeep(k)
		return nil
	}
	clear(priv)
	return errors.New("envelope: the random source gives no valid P-256 key")
}

// ValidPublicKey reports whether pub is a P-256 point, uncompressed.
func ValidPublicKey(pub []byte) bool {
	if len(pub) != PublicKeyLen {
		return false
	}
	_, err := ecdh.P256().NewPublicKey(pub)
	return err == nil
}

// AnswerKey is the answerer's side: it draws an ephemeral key pair,
// writes its public key into ePub (PublicKeyLen bytes), and returns the
// key of the answer's envelope in mem (MemorySize bytes), unlocked.
func AnswerKey(mem, ePub, requesterPub []byte, rand io.Reader) (*Key, error) {
	if len(mem) < MemorySize || len(ePub) != PublicKeyLen {
		return nil, ErrShortBuf
	}
	// The ephemeral scalar is drawn into mem where a passphrase's proof
	// would go (an answer has none); requestKey wipes it once used.
	scalar := mem[offPP : offPP+PrivateKeyLen]
	if err := NewRequestKeys(scalar, ePub, rand); err != nil {
		return nil, err
	}
	k, err := requestKey(mem, scalar, requesterPub, requesterPub, ePub)
	if err != nil {
		clear(mem[:MemorySize])
		return nil, err
	}
	return k, nil
}

// OpenAnswerKey is the requester's side: from its private scalar and
// public key and the answerer's ePub, the key of the answer's envelope in
// mem (MemorySize bytes), unlocked.
func OpenAnswerKey(mem, priv, requesterPub, ePub []byte) (*Key, error) {
	if len(mem) < MemorySize {
		return nil, ErrShortBuf
	}
	if len(priv) != PrivateKeyLen {
		return nil, ErrRequestKey
	}
	return requestKey(mem, priv, ePub, requesterPub, ePub)
}

// requestKey computes Z = ECDH(priv, peer) and derives K from it into a
// Key in mem; info binds both public keys.
func requestKey(mem, priv, peer, requesterPub, ePub []byte) (*Key, error) {
	if len(peer) != PublicKeyLen || len(requesterPub) != PublicKeyLen || len(ePub) != PublicKeyLen {
		return nil, ErrRequestKey
	}
	defer burnStack()
	pk, err := ecdh.P256().NewPublicKey(peer)
	if err != nil {
		return nil, ErrRequestKey
	}
	sk, err := ecdh.P256().NewPrivateKey(priv)
	if err != nil {
		return nil, ErrRequestKey
	}
	z, err := sk.ECDH(pk)
	wipeDeep(sk)
	if err != nil {
		clear(z)
		return nil, ErrRequestKey
	}
	k := &Key{mem: mem[:MemorySize]}
	// K goes where a link's K goes. priv may lie in mem (AnswerKey): it
	// is not needed any more, and is wiped here.
	clear(k.mem)
	hkdf(k.mem[offK:offK+KeySize], z, infoRequest+string(requesterPub)+string(ePub), k.mem[offWork:])
	clear(z)
	if err := k.Unlock(nil); err != nil {
		k.Wipe()
		return nil, err
	}
	return k, nil
}

// wipeDeep zeroes every byte slice and byte array reachable from x
// through pointers and struct fields: crypto/ecdh's key objects keep
// copies of a scalar there, with no way to clear them. Interfaces are not
// followed (they lead to the curve, shared by everyone), nor are strings,
// maps, channels or functions.
func wipeDeep(x any) {
	v := reflect.ValueOf(x)
	seen := map[uintptr]bool{}
	var walk func(v reflect.Value, depth int)
	walk = func(v reflect.Value, depth int) {
		if depth > 8 {
			return
		}
		switch v.Kind() {
		case reflect.Pointer:
			if v.IsNil() || seen[v.Pointer()] {
				return
			}
			seen[v.Pointer()] = true
			walk(v.Elem(), depth+1)
		case reflect.Struct:
			for i := range v.NumField() {
				f := v.Field(i)
				if !f.CanSet() && f.CanAddr() {
					f = reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
				}
				walk(f, depth+1)
			}
		case reflect.Slice:
			if v.Type().Elem().Kind() == reflect.Uint8 {
				clear(v.Bytes()[:v.Cap()])
				return
			}
			for i := range v.Len() {
				walk(v.Index(i), depth+1)
			}
		case reflect.Array:
			if v.Type().Elem().Kind() == reflect.Uint8 && v.CanSet() {
				v.SetZero()
				return
			}
			for i := range v.Len() {
				walk(v.Index(i), depth+1)
			}
		}
	}
	walk(v, 0)
}
