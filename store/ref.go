package store

// Ref names one secret in audit records without revealing either of its
// links: a keyed hash of its secret link, derived beside (and independent
// of) the index and the key (see seal.go), which no one can turn back into
// a link, a key or an index. One secret has the same Ref from creation to
// expiry, whichever link is used.
type Ref [refSize]byte

// SecretRef returns the Ref a secret key names, whether or not a secret
// waits behind it; false when key is not a key's form.
func (s *Store) SecretRef(key []byte) (Ref, bool) {
	scr, err := s.derive(labelSecret, key)
	if err != nil {
		return Ref{}, false
	}
	defer scr.Release()
	return derivedIn(scr).ref(), true
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
	if s.remote != nil {
		return s.receiptRefRemote(key)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.receipts.get(&rid)
	if r == 0 {
		return Ref{}, false
	}
	return s.table.get(r).ref, true
}
