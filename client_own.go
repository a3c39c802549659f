package main

// The client's side of otslite's own endpoints beyond the v1 API: groups
// of links, requests for a secret, and the attempts on links that are
// gone (handler/beyond.go; README "Files, groups, splits and requests").
// Link keys and proofs are sent from vault memory; what comes back about
// states and times holds no secret and is read with encoding/json.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"otslite/store/envelope"
)

// group gathers stored secrets, by their receipt keys, under one group
// receipt key (reply.receiptKey).
func (c *client) group(ctx context.Context, receiptKeys [][]byte) (*reply, error) {
	n := len(`{"receipts":[]}`)
	for _, k := range receiptKeys {
		n += len(k) + 3
	}
	body, err := c.v.alloc(n)
	if err != nil {
		return nil, err
	}
	defer c.v.free(body)
	b := append(body[:0], `{"receipts":[`...)
	for i, k := range receiptKeys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, k...)
		b = append(b, '"')
	}
	b = append(b, "]}"...)
	a, err := c.callBody(ctx, "POST", []byte("/api/otslite/group"), b, true)
	if err == nil && !validLinkKey(a.receiptKey) {
		a.free(c.v)
		return nil, fmt.Errorf("%s: the answer has no receipt_key", c.ep.base.Host)
	}
	return a, err
}

// callBody sends one request with a JSON body composed by the caller (in
// vault memory when it holds secrets).
func (c *client) callBody(ctx context.Context, method string, path, body []byte, auth bool) (*reply, error) {
	req := request{method: method, path: path, body: [][]byte{body}, contentType: "application/json"}
	if auth {
		req.auth = c.auth
	}
	resp, err := c.ep.do(ctx, c.v, req)
	if err != nil {
		return nil, err
	}
	return c.answer(resp)
}

// answer reads a response as call does.
func (c *client) answer(resp *response) (*reply, error) {
	a := &reply{resp: resp}
	if !resp.json {
		a.free(c.v)
		if resp.status == 200 {
			return nil, fmt.Errorf("%s: %w; is this an otslite or Onetime Secret server?", c.ep.base.Host, errNotJSON)
		}
		return nil, &apiError{status: resp.intended, retryAfter: resp.retryAfter}
	}
	msg, err := a.parse(c.v)
	if err != nil {
		a.free(c.v)
		return nil, fmt.Errorf("%s: %w", c.ep.base.Host, err)
	}
	if resp.status != 200 || resp.intended != 200 {
		a.free(c.v)
		return nil, &apiError{status: resp.intended, message: msg, retryAfter: resp.retryAfter}
	}
	return a, nil
}

// lateAttempt is one attempt on a link after its secret was gone.
type lateAttempt struct {
	At   int64  `json:"at"`
	Net  string `json:"net"`
	Kind string `json:"kind"`
}

// linkState is one link of a group, or a receipt's own view.
type linkState struct {
	Link          int           `json:"link"`
	State         string        `json:"state"`
	Created       int64         `json:"created"`
	Updated       int64         `json:"updated"`
	Received      int64         `json:"received"`
	SecretExpires int64         `json:"secret_expires"`
	LateTotal     int           `json:"late_total"`
	Late          []lateAttempt `json:"late_attempts"`
}

// groupView is a group's receipt.
type groupView struct {
	Created int64       `json:"created"`
	Expires int64       `json:"expires"`
	Links   []linkState `json:"links"`
}

// getJSON reads an answer of otslite's own that holds no secret into v.
func (c *client) getJSON(ctx context.Context, prefix string, key []byte, suffix string, v any) error {
	path, err := c.apiPath(prefix, key, suffix)
	if err != nil {
		return err
	}
	defer c.v.free(path)
	a, err := c.call(ctx, "GET", path, nil, false)
	if err != nil {
		return err
	}
	defer a.free(c.v)
	if err := json.Unmarshal(a.resp.body, v); err != nil {
		return fmt.Errorf("%s: %w", c.ep.base.Host, errNotV1)
	}
	return nil
}

// groupReceipt reads a group's receipt.
func (c *client) groupReceipt(ctx context.Context, key []byte) (*groupView, error) {
	var g groupView
	return &g, c.getJSON(ctx, "/api/otslite/group/", key, "", &g)
}

// lateOf reads the attempts on a secret's link after it was gone, from
// its receipt key.
func (c *client) lateOf(ctx context.Context, receiptKey []byte) (*linkState, error) {
	var l linkState
	return &l, c.getJSON(ctx, "/api/otslite/receipt/", receiptKey, "", &l)
}

// burnLink burns link i (from 1) of a group.
func (c *client) burnLink(ctx context.Context, groupKey []byte, i int) error {
	path, err := c.apiPath("/api/otslite/group/", groupKey, "/burn/"+strconv.Itoa(i))
	if err != nil {
		return err
	}
	defer c.v.free(path)
	a, err := c.call(ctx, "POST", path, nil, false)
	a.free(c.v)
	return err
}

// createRequest makes a request for a secret: reply.requestKey goes in
// the request link, reply.inboxKey is the requester's.
func (c *client) createRequest(ctx context.Context, ttl time.Duration) (*reply, error) {
	var fields []field
	if ttl > 0 {
		fields = append(fields, field{name: "ttl", value: strconv.AppendInt(nil, int64(ttl/time.Second), 10)})
	}
	a, err := c.call(ctx, "POST", []byte("/api/otslite/request"), fields, true)
	if err == nil && (!validLinkKey(a.requestKey) || !validLinkKey(a.inboxKey)) {
		a.free(c.v)
		return nil, fmt.Errorf("%s: the answer has no request_key and requester_key; is this an otslite server that takes requests?", c.ep.base.Host)
	}
	return a, err
}

// inboxView is a request as its requester sees it.
type inboxView struct {
	State         string `json:"state"`
	Created       int64  `json:"created"`
	Deadline      int64  `json:"deadline"`
	Answered      int64  `json:"answered"`
	AnswerExpires int64  `json:"answer_expires"`
	Read          int64  `json:"read"`
	Public        string `json:"public"`
}

// publicKey decodes the answerer's public key.
func (iv *inboxView) publicKey() ([]byte, error) {
	pub, err := base64.RawURLEncoding.Strict().DecodeString(iv.Public)
	if err != nil || !envelope.ValidPublicKey(pub) {
		return nil, fmt.Errorf("the answer came with a damaged public key")
	}
	return pub, nil
}

// inbox reads the requester's view of a request.
func (c *client) inbox(ctx context.Context, inboxKey []byte) (*inboxView, error) {
	var iv inboxView
	return &iv, c.getJSON(ctx, "/api/otslite/inbox/", inboxKey, "", &iv)
}

// revealAnswer reveals the answer to a request once, with its proof.
func (c *client) revealAnswer(ctx context.Context, inboxKey, proof []byte) (*reply, error) {
	path, err := c.apiPath("/api/otslite/inbox/", inboxKey, "/reveal")
	if err != nil {
		return nil, err
	}
	defer c.v.free(path)
	return c.call(ctx, "POST", path, []field{{name: "passphrase", value: proof, secret: true}}, false)
}
