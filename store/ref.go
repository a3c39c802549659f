package store

// Ref names one secret in audit records without revealing either of its
// links: it is the keyed hash the store indexes the secret by (see
// seal.go), which no one can turn back into a link or a key. One secret
// has the same Ref from creation to expiry, whichever link is used.
// Audit records show only a further keyed fingerprint of it.
type Ref [idSize]byte

// SecretRef returns the Ref a secret key names, whether or not a secret
// waits behind it; false when key is not a key's form.
func (s *Store) SecretRef(key []byte) (Ref, bool) {
	scr, err := s.derive(labelSecret, key)
	if err != nil {
		return Ref{}, false
	}
	defer scr.Release()
	return Ref(derivedIn(scr).id()), true
}

// ReceiptRef returns the Ref of the secret a receipt key belongs to, while
// the receipt is kept; false otherwise.
func (s *Store) ReceiptRef(key []byte) (Ref, bool) {
	scr, err := s.derive(labelReceipt, key)
	if err != nil {
		return Ref{}, false
	}
	rid := derivedIn(scr).id()
	scr.Release()
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.receipts[rid]
	if r == 0 {
		return Ref{}, false
	}
	return Ref(s.table.get(r).secretID), true
}
