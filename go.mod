module otslite

go 1.26.8

require (
	filippo.io/nistec v0.0.4
	github.com/awnumar/memguard v0.23.0
	github.com/chromedp/cdproto v0.159.0
	github.com/chromedp/chromedp v0.23.0
	github.com/hashicorp/vault v1.21.4
	github.com/klauspost/compress v1.20.3
	github.com/valyala/bytebufferpool v1.0.0
	github.com/valyala/fasthttp v1.74.0
	golang.org/x/crypto v0.58.0
	golang.org/x/sys v0.49.0
	golang.org/x/text v0.44.0
)

require (
	github.com/awnumar/memcall v0.4.0 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	github.com/molecule-man/go-brrr v1.0.1 // indirect
)
